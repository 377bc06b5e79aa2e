package provider

import (
	"context"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// serviceAccountResource is tollgate_service_account. The API changes
// description, role and require_dpop in place (PATCH), and status through
// disable/enable; it refuses to change name (it makes the account's email
// address) and token_ttl_seconds (S3, S6), so a change of either replaces
// the account.
type serviceAccountResource struct{ base }

func newServiceAccountResource() resource.Resource { return &serviceAccountResource{} }

var (
	_ resource.ResourceWithImportState = (*serviceAccountResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*serviceAccountResource)(nil)
)

type serviceAccountModel struct {
	ID              types.String      `tfsdk:"id"`
	Organization    types.String      `tfsdk:"organization"`
	Name            types.String      `tfsdk:"name"`
	Description     types.String      `tfsdk:"description"`
	Role            types.String      `tfsdk:"role"`
	TokenTTLSeconds types.Int64       `tfsdk:"token_ttl_seconds"`
	Disabled        types.Bool        `tfsdk:"disabled"`
	RequireDPoP     types.Bool        `tfsdk:"require_dpop"`
	ClientID        types.String      `tfsdk:"client_id"`
	Email           types.String      `tfsdk:"email"`
	TokenEndpoint   types.String      `tfsdk:"token_endpoint"`
	Status          types.String      `tfsdk:"status"`
	CreatedAt       timetypes.RFC3339 `tfsdk:"created_at"`
	CreatedBy       types.String      `tfsdk:"created_by"`
}

// Validators shared with the data source.
var (
	serviceAccountNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)
	serviceAccountName   = stringvalidator.RegexMatches(serviceAccountNameRE,
		"must be 1 to 20 ASCII letters, digits, '-' and '_', with no spaces")
	roleValidator = stringvalidator.OneOf("admin", "member", "viewer")
)

func serviceAccountSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A service account: a non-human member of one organization, with a role there, a client ID and secrets for " +
			"the OAuth 2.0 client credentials grant, and API tokens.\n\n" +
			"The client secret the server returns at creation is discarded: a `tollgate_service_account_secret` rotates the secret to get one it owns.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The service account's ID (`sa_…`), which is also its OAuth 2.0 client ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"organization": organizationAttribute(),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "1–20 ASCII letters, digits, `-` and `_`, unique in the organization ignoring case. It makes the account's email address and cannot change: a new name replaces the account.",
				Validators:          []validator.String{serviceAccountName},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "At most 140 characters. Changed in place.",
				Validators:          []validator.String{stringvalidator.UTF8LengthAtMost(140)},
			},
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "`admin`, `member` or `viewer` (never `super_admin`). Changed in place; the account's current access tokens are then not handed out again.",
				Validators:          []validator.String{roleValidator},
			},
			"token_ttl_seconds": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "Lifetime of the access tokens the account gets, 300 (5 minutes) to 2592000 (30 days). It cannot change: a new value replaces the account.",
				Validators:          []validator.Int64{int64validator.Between(300, 2592000)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"disabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the account is disabled: its secrets and tokens are then refused everywhere. Changed in place (disable/enable).",
			},
			"require_dpop": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the token endpoint issues this account only DPoP-bound tokens (RFC 9449). Changed in place; requiring DPoP revokes the account's live access tokens.",
			},
			"client_id":      computedString("The OAuth 2.0 client ID."),
			"email":          computedString("`<lowercased name>@<organization>.<service-account email domain>`."),
			"token_endpoint": computedString("The URL of the token endpoint the account's workloads call."),
			"status": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`active` or `disabled`.",
				PlanModifiers: []planmodifier.String{statusFromDisabled{}},
			},
			"created_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the account was created (RFC 3339).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_by": computedString("The ID of the user who created the account."),
		},
	}
}

// organizationAttribute is the organization attribute every resource has.
func organizationAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true,
		MarkdownDescription: "Slug of the organization. Default: the provider's `organization`. A change replaces the resource.",
	}
}

// computedString is a read-only attribute that keeps its value across
// updates.
func computedString(doc string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true, MarkdownDescription: doc,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

func (r *serviceAccountResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service_account"
}

func (r *serviceAccountResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = serviceAccountSchema()
}

var serviceAccountAttrs = attributeNames(serviceAccountSchema())

func (r *serviceAccountResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planOrganization(ctx, req, resp)
}

func (r *serviceAccountResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan serviceAccountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org := plan.Organization.ValueString()
	body := client.CreateServiceAccountJSONRequestBody{Name: plan.Name.ValueString(), Role: client.CredentialRole(plan.Role.ValueString()),
		TokenTtlSeconds: int(plan.TokenTTLSeconds.ValueInt64())}
	if d := plan.Description.ValueString(); d != "" {
		body.Description = &d
	}
	// The answer's client_secret is dropped here: the secret resource
	// rotates to get a secret it owns (see the resource's documentation).
	created, err := client.Decode[client.ServiceAccount](r.data.admin.Client.CreateServiceAccount(ctx, org, body))
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot create the service account", err, serviceAccountAttrs)
		return
	}
	sa := created
	sa.ClientSecret = nil
	disabled, requireDPoP := plan.Disabled.ValueBool(), plan.RequireDPoP.ValueBool()
	// From here on the account exists: save it even if a later step
	// fails, so that Terraform knows it (and taints it).
	fromServiceAccount(&plan, org, sa)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if requireDPoP {
		t := true
		if sa, err = client.Decode[client.ServiceAccount](r.data.admin.UpdateServiceAccount(ctx, org, sa.Id, client.UpdateServiceAccountJSONRequestBody{RequireDpop: &t})); err != nil {
			apiError(&resp.Diagnostics, "Cannot require DPoP of the new service account", err, serviceAccountAttrs)
			return
		}
	}
	if disabled {
		if sa, err = client.Decode[client.ServiceAccount](r.data.admin.DisableServiceAccount(ctx, org, sa.Id)); err != nil {
			apiError(&resp.Diagnostics, "Cannot disable the new service account", err, serviceAccountAttrs)
			return
		}
	}
	fromServiceAccount(&plan, org, sa)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serviceAccountResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state serviceAccountModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org := state.Organization.ValueString()
	sa, err := client.Decode[client.ServiceAccount](r.data.admin.GetServiceAccount(ctx, org, state.ID.ValueString()))
	if notFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account", err, serviceAccountAttrs)
		return
	}
	fromServiceAccount(&state, org, sa)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *serviceAccountResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan, state serviceAccountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org, id := plan.Organization.ValueString(), state.ID.ValueString()
	var upd client.UpdateServiceAccountJSONRequestBody
	changed := false
	if !plan.Description.Equal(state.Description) {
		upd.Description, changed = plan.Description.ValueStringPointer(), true
	}
	if !plan.Role.Equal(state.Role) {
		upd.Role, changed = plan.Role.ValueStringPointer(), true
	}
	if !plan.RequireDPoP.Equal(state.RequireDPoP) {
		upd.RequireDpop, changed = plan.RequireDPoP.ValueBoolPointer(), true
	}
	var sa *client.ServiceAccount
	var err error
	if changed {
		if sa, err = client.Decode[client.ServiceAccount](r.data.admin.UpdateServiceAccount(ctx, org, id, upd)); err != nil {
			apiError(&resp.Diagnostics, "Cannot update the service account", err, serviceAccountAttrs)
			return
		}
	}
	if !plan.Disabled.Equal(state.Disabled) {
		if plan.Disabled.ValueBool() {
			sa, err = client.Decode[client.ServiceAccount](r.data.admin.DisableServiceAccount(ctx, org, id))
		} else {
			sa, err = client.Decode[client.ServiceAccount](r.data.admin.EnableServiceAccount(ctx, org, id))
		}
		if err != nil {
			apiError(&resp.Diagnostics, "Cannot change whether the service account is disabled", err, serviceAccountAttrs)
			return
		}
	}
	if sa == nil {
		if sa, err = client.Decode[client.ServiceAccount](r.data.admin.GetServiceAccount(ctx, org, id)); err != nil {
			apiError(&resp.Diagnostics, "Cannot read the service account", err, serviceAccountAttrs)
			return
		}
	}
	fromServiceAccount(&plan, org, sa)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serviceAccountResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state serviceAccountModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.NoContent(r.data.admin.DeleteServiceAccount(ctx, state.Organization.ValueString(), state.ID.ValueString()))
	if err != nil && !notFound(err) {
		apiError(&resp.Diagnostics, "Cannot delete the service account", err, serviceAccountAttrs)
	}
}

// ImportState takes "org/id", "id", "org/name" or "name"; without an
// organization, the provider's.
func (r *serviceAccountResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	org, parts, err := r.importOrg(req.ID, 1, `"<organization>/<service account ID or name>" or "<service account ID or name>"`)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	id := parts[0]
	// Names have at most 20 characters, IDs more: "sa_foo" is a name.
	if !strings.HasPrefix(id, "sa_") || len(id) <= 20 {
		if unconfigured(&r.base, &resp.Diagnostics) {
			return
		}
		sa, err := findServiceAccountByName(ctx, r.data.admin, org, id)
		if err != nil {
			apiError(&resp.Diagnostics, "Cannot find the service account to import", err, nil)
			return
		}
		id = sa.Id
	}
	setImported(ctx, &resp.State, &resp.Diagnostics, map[string]string{"id": id, "organization": org})
}

// fromServiceAccount sets m from the API's account.
func fromServiceAccount(m *serviceAccountModel, org string, sa *client.ServiceAccount) {
	m.ID = types.StringValue(sa.Id)
	m.Organization = types.StringValue(org)
	m.Name = types.StringValue(sa.Name)
	m.Description = types.StringValue(sa.Description)
	m.Role = types.StringValue(string(sa.Role))
	m.TokenTTLSeconds = types.Int64Value(int64(sa.TokenTtlSeconds))
	m.Disabled = types.BoolValue(sa.Status == client.ServiceAccountStatusDisabled)
	m.RequireDPoP = types.BoolValue(sa.RequireDpop != nil && *sa.RequireDpop)
	m.ClientID = types.StringValue(sa.ClientId)
	m.Email = types.StringValue(sa.Email)
	m.TokenEndpoint = types.StringValue(sa.TokenEndpoint)
	m.Status = types.StringValue(string(sa.Status))
	m.CreatedAt = timetypes.NewRFC3339TimeValue(sa.CreatedAt)
	m.CreatedBy = types.StringValue(sa.CreatedBy)
}

// findServiceAccountByName returns org's account of that name, compared
// ignoring case as the server does, or a not_found *client.Error.
func findServiceAccountByName(ctx context.Context, c *client.Admin, org, name string) (*client.ServiceAccount, error) {
	for sa, err := range c.ServiceAccounts(ctx, org) {
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(sa.Name, name) {
			return &sa, nil
		}
	}
	return nil, &client.Error{StatusCode: 404, Code: client.ProblemCodeNotFound, Detail: "no service account named " + name + " in " + org}
}

// statusFromDisabled plans status from disabled, so that a plan shows
// the status an update leads to rather than "known after apply".
type statusFromDisabled struct{}

func (statusFromDisabled) Description(context.Context) string {
	return "status follows disabled"
}

func (m statusFromDisabled) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (statusFromDisabled) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	var disabled types.Bool
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("disabled"), &disabled)...)
	if disabled.IsUnknown() || disabled.IsNull() {
		return
	}
	status := "active"
	if disabled.ValueBool() {
		status = "disabled"
	}
	resp.PlanValue = types.StringValue(status)
}
