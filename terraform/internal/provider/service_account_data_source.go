package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/tollgate/tollgate/client"
)

// serviceAccountDataSource is the data source tollgate_service_account:
// one account, by ID or by name. Reading accounts takes the admin role,
// which a machine credential may have.
type serviceAccountDataSource struct{ data *providerData }

func newServiceAccountDataSource() datasource.DataSource { return &serviceAccountDataSource{} }

var _ datasource.DataSourceWithConfigValidators = (*serviceAccountDataSource)(nil)

// serviceAccountDataModel is the resource's model and when the account
// was last used, which only the data source shows (it changes with every
// token).
type serviceAccountDataModel struct {
	serviceAccountModel
	LastUsedAt timetypes.RFC3339 `tfsdk:"last_used_at"`
}

func (d *serviceAccountDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service_account"
}

func (d *serviceAccountDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(doc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: doc}
	}
	timestamp := func(doc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: doc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a service account by `id` or by `name` (exactly one).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "The account's ID (`sa_…`)."},
			"organization": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Slug of the organization. Default: the provider's `organization`."},
			"name": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "The account's name, compared ignoring case.", Validators: []validator.String{serviceAccountName}},
			"description":       computed("The description."),
			"role":              computed("`admin`, `member` or `viewer`."),
			"token_ttl_seconds": schema.Int64Attribute{Computed: true, MarkdownDescription: "Lifetime of the account's access tokens."},
			"disabled":          schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the account is disabled."},
			"require_dpop":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the account gets only DPoP-bound tokens."},
			"client_id":         computed("The OAuth 2.0 client ID."),
			"email":             computed("The account's email address."),
			"token_endpoint":    computed("The URL of the token endpoint."),
			"status":            computed("`active` or `disabled`."),
			"created_at":        timestamp("When the account was created."),
			"created_by":        computed("The ID of the user who created it."),
			"last_used_at":      timestamp("When the account last authenticated; null if never (updated within seconds, not on every request)."),
		},
	}
}

func (d *serviceAccountDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *serviceAccountDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b := &base{}
	b.configure(req.ProviderData, &resp.Diagnostics)
	d.data = b.data
}

func (d *serviceAccountDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "The Tollgate provider was not configured before use. This is a bug in the provider or in Terraform.")
		return
	}
	var m serviceAccountDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org := m.Organization.ValueString()
	if org == "" {
		org = d.data.org
	}
	if org == "" {
		resp.Diagnostics.AddAttributeError(path.Root("organization"), "Missing organization",
			"Set the data source's organization, or the provider's organization (or the TOLLGATE_ORG environment variable).")
		return
	}
	var sa *client.ServiceAccount
	var err error
	if id := m.ID.ValueString(); id != "" {
		sa, err = client.Decode[client.ServiceAccount](d.data.admin.GetServiceAccount(ctx, org, id))
	} else {
		sa, err = findServiceAccountByName(ctx, d.data.admin, org, m.Name.ValueString())
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account", err, nil)
		return
	}
	fromServiceAccount(&m.serviceAccountModel, org, sa)
	m.LastUsedAt = timetypes.NewRFC3339TimePointerValue(sa.LastUsedAt)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
