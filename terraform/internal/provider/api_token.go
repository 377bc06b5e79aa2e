package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/origin"
)

// apiTokenResource is tollgate_api_token: a long-lived bearer token owned
// by a service account. The API changes name, description and domains in
// place (PATCH) and the owner through reassignment, keeping the token's
// value; kind, role and expiry cannot change, so a change replaces the
// token, which is a new value. Destroying it revokes it.
type apiTokenResource struct{ base }

func newAPITokenResource() resource.Resource { return &apiTokenResource{} }

var (
	_ resource.ResourceWithImportState = (*apiTokenResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*apiTokenResource)(nil)
)

type apiTokenModel struct {
	ID               types.String      `tfsdk:"id"`
	Organization     types.String      `tfsdk:"organization"`
	Name             types.String      `tfsdk:"name"`
	Description      types.String      `tfsdk:"description"`
	ServiceAccountID types.String      `tfsdk:"service_account_id"`
	Kind             types.String      `tfsdk:"kind"`
	Domains          types.Set         `tfsdk:"domains"`
	Role             types.String      `tfsdk:"role"`
	ExpiresAt        timetypes.RFC3339 `tfsdk:"expires_at"`
	Token            types.String      `tfsdk:"token"`
	OwnerType        types.String      `tfsdk:"owner_type"`
	CreatedAt        timetypes.RFC3339 `tfsdk:"created_at"`
	CreatedBy        types.String      `tfsdk:"created_by"`
}

func apiTokenSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "An API token: a long-lived bearer token owned by a service account, `private` (accepted from anywhere) or " +
			"`public` (accepted only from the listed web origins). The token is shown once, at creation, and kept in the state as a sensitive value.",
		Attributes: map[string]schema.Attribute{
			"id":           computedString("The token's ID (`tok_…`)."),
			"organization": organizationAttribute(),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "1–100 characters. Changed in place.",
				Validators: []validator.String{stringvalidator.UTF8LengthBetween(1, 100)},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "At most 140 characters. Changed in place.",
				Validators:          []validator.String{stringvalidator.UTF8LengthAtMost(140)},
			},
			"service_account_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The service account that owns the token. A change reassigns the token in place, keeping its value; " +
					"a role above the new owner's is lowered to it. An imported token a member owns is moved to this account by the next apply.",
			},
			"kind": schema.StringAttribute{
				Required: true, MarkdownDescription: "`private` (accepted from anywhere) or `public` (accepted only from `domains`). A change replaces the token.",
				Validators:    []validator.String{stringvalidator.OneOf("private", "public")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"domains": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Public tokens: the exact web origins the token is accepted from, such as `https://app.example.com`; " +
					"no wildcards, paths or queries (list each subdomain). Changed in place.",
			},
			"role": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "At most the owner's role. Default: `viewer` for a public token, the owner's role for a private one. A change replaces the token.",
				Validators:          []validator.String{roleValidator},
				PlanModifiers:       []planmodifier.String{roleUnlessReassigned{}, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"expires_at": schema.StringAttribute{
				Optional: true, CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "When the token stops working (RFC 3339); unset for never, unless the organization's policy requires an expiry. A change replaces the token.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"token": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "The token (`tgp_…` private, `tgq_…` public), set at creation only: the server never shows it again. Null after an import.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"owner_type": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`service_account`; `user` for an imported token a member still owns, until the next apply reassigns it.",
				PlanModifiers: []planmodifier.String{ownedByServiceAccount{}},
			},
			"created_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the token was created.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_by": computedString("The ID of who created the token."),
		},
	}
}

var apiTokenAttrs = attributeNames(apiTokenSchema())

func (r *apiTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api_token"
}

func (r *apiTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = apiTokenSchema()
}

func (r *apiTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planOrganization(ctx, req, resp)
}

func (r *apiTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := client.CreateAPITokenJSONRequestBody{Name: plan.Name.ValueString(), ServiceAccountId: plan.ServiceAccountID.ValueString(),
		Kind: client.APITokenKind(plan.Kind.ValueString())}
	if d := plan.Description.ValueString(); d != "" {
		body.Description = &d
	}
	if !plan.Domains.IsNull() {
		domains := domainsOf(ctx, plan.Domains, &resp.Diagnostics)
		body.Domains = &domains
	}
	if !plan.Role.IsUnknown() && !plan.Role.IsNull() {
		body.Role = plan.Role.ValueStringPointer()
	}
	if !plan.ExpiresAt.IsNull() {
		t, d := plan.ExpiresAt.ValueRFC3339Time()
		resp.Diagnostics.Append(d...)
		body.ExpiresAt = &t
	}
	if resp.Diagnostics.HasError() {
		return
	}
	created, err := client.Decode[client.APIToken](r.data.admin.Client.CreateAPIToken(ctx, plan.Organization.ValueString(), body))
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot create the API token", err, apiTokenAttrs)
		return
	}
	plan.Token = stringOrNull(created.Token)
	fromAPIToken(ctx, &plan, created, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state apiTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := client.Decode[client.APIToken](r.data.admin.GetAPIToken(ctx, state.Organization.ValueString(), state.ID.ValueString()))
	if notFound(err) {
		resp.State.RemoveResource(ctx) // revoked or deleted
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the API token", err, apiTokenAttrs)
		return
	}
	fromAPIToken(ctx, &state, t, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *apiTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan, state apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org, id := plan.Organization.ValueString(), state.ID.ValueString()
	var t *client.APIToken
	var err error
	if !plan.ServiceAccountID.Equal(state.ServiceAccountID) || state.OwnerType.ValueString() != string(client.OwnerTypeServiceAccount) {
		t, err = r.data.admin.ReassignAPIToken(ctx, org, id, plan.ServiceAccountID.ValueString())
		if err != nil {
			apiError(&resp.Diagnostics, "Cannot reassign the API token", err, apiTokenAttrs)
			return
		}
	}
	var upd client.UpdateAPITokenJSONRequestBody
	changed := false
	if !plan.Name.Equal(state.Name) {
		upd.Name, changed = plan.Name.ValueStringPointer(), true
	}
	if !plan.Description.Equal(state.Description) {
		upd.Description, changed = plan.Description.ValueStringPointer(), true
	}
	if !plan.Domains.Equal(state.Domains) {
		domains := []string{}
		if !plan.Domains.IsNull() {
			domains = domainsOf(ctx, plan.Domains, &resp.Diagnostics)
		}
		upd.Domains, changed = &domains, true
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if changed {
		if t, err = client.Decode[client.APIToken](r.data.admin.UpdateAPIToken(ctx, org, id, upd)); err != nil {
			apiError(&resp.Diagnostics, "Cannot update the API token", err, apiTokenAttrs)
			return
		}
	}
	if t == nil {
		if t, err = client.Decode[client.APIToken](r.data.admin.GetAPIToken(ctx, org, id)); err != nil {
			apiError(&resp.Diagnostics, "Cannot read the API token", err, apiTokenAttrs)
			return
		}
	}
	planned := plan.Role
	fromAPIToken(ctx, &plan, t, &resp.Diagnostics)
	if !planned.IsUnknown() && !planned.Equal(plan.Role) {
		resp.Diagnostics.AddAttributeError(path.Root("role"), "The API token's role was lowered",
			fmt.Sprintf("The token was reassigned to %s, whose role is below the token's %s, so Tollgate lowered the token's role to %s. Set role = %q, or leave it unset.",
				plan.ServiceAccountID.ValueString(), planned.ValueString(), plan.Role.ValueString(), plan.Role.ValueString()))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete revokes the token: it stops working at once on every replica.
func (r *apiTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state apiTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.NoContent(r.data.admin.RevokeAPIToken(ctx, state.Organization.ValueString(), state.ID.ValueString()))
	if err != nil && !notFound(err) {
		apiError(&resp.Diagnostics, "Cannot revoke the API token", err, apiTokenAttrs)
	}
}

// ImportState takes "org/token_id" or "token_id". The imported token has
// no token value: the server never shows it again.
func (r *apiTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	org, parts, err := r.importOrg(req.ID, 1, `"<organization>/<token ID>" or "<token ID>"`)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	setImported(ctx, &resp.State, &resp.Diagnostics, map[string]string{"organization": org, "id": parts[0]})
}

// fromAPIToken sets m from the API's token. The domains keep the text m
// has when the server's canonical origins are the same origins (the
// server lowercases hosts, drops default ports and trailing slashes); a
// private token's empty list is null, as an unset attribute is.
func fromAPIToken(ctx context.Context, m *apiTokenModel, t *client.APIToken, diags *diag.Diagnostics) {
	m.ID = types.StringValue(t.Id)
	m.Name = types.StringValue(t.Name)
	m.Description = types.StringValue(t.Description)
	m.OwnerType = types.StringValue(string(t.Owner.Type))
	if t.Owner.Type == client.OwnerTypeServiceAccount {
		m.ServiceAccountID = types.StringValue(t.Owner.Id)
	} else if m.ServiceAccountID.IsUnknown() {
		m.ServiceAccountID = types.StringNull()
	}
	m.Kind = types.StringValue(string(t.Kind))
	m.Role = types.StringValue(string(t.Role))
	m.ExpiresAt = timetypes.NewRFC3339TimePointerValue(t.ExpiresAt)
	m.CreatedAt = timetypes.NewRFC3339TimeValue(t.CreatedAt)
	m.CreatedBy = types.StringValue(t.CreatedBy)
	if m.Token.IsUnknown() {
		m.Token = types.StringNull()
	}
	var have []string
	if !m.Domains.IsNull() && !m.Domains.IsUnknown() {
		have = domainsOf(ctx, m.Domains, diags)
	}
	switch {
	case len(t.Domains) == 0 && (m.Domains.IsNull() || len(have) == 0):
		if m.Domains.IsUnknown() {
			m.Domains = types.SetNull(types.StringType)
		}
	case sameOrigins(have, t.Domains):
	default:
		m.Domains, _ = types.SetValueFrom(ctx, types.StringType, t.Domains)
	}
}

// domainsOf returns the strings of a set of domains.
func domainsOf(ctx context.Context, s types.Set, diags *diag.Diagnostics) []string {
	out := []string{}
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	return out
}

// sameOrigins reports whether have, as written in the configuration, and
// canonical, as the server keeps them, are the same set of origins.
func sameOrigins(have, canonical []string) bool {
	norm := make([]string, 0, len(have))
	for _, d := range have {
		n, err := origin.Normalize(d)
		if err != nil {
			return false
		}
		norm = append(norm, n)
	}
	a, b := slices.Clone(canonical), norm
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// roleUnlessReassigned keeps the role of the state in the plan, unless the
// token changes owner: a reassignment may lower it.
type roleUnlessReassigned struct{}

func (roleUnlessReassigned) Description(context.Context) string {
	return "the role stays unless the token is reassigned"
}

func (m roleUnlessReassigned) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (roleUnlessReassigned) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || !req.PlanValue.IsUnknown() || !req.ConfigValue.IsNull() {
		return
	}
	var planned, prior types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("service_account_id"), &planned)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("service_account_id"), &prior)...)
	if planned.Equal(prior) {
		resp.PlanValue = req.StateValue
	}
}

// ownedByServiceAccount plans owner_type service_account: the resource
// always has a service account owner after apply.
type ownedByServiceAccount struct{}

func (ownedByServiceAccount) Description(context.Context) string {
	return "the token is owned by a service account after apply"
}

func (m ownedByServiceAccount) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (ownedByServiceAccount) PlanModifyString(_ context.Context, _ planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	resp.PlanValue = types.StringValue(string(client.OwnerTypeServiceAccount))
}
