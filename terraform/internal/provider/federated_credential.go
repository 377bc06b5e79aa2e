package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// federatedCredentialResource is tollgate_federated_credential: a
// service account's trust in an external OIDC issuer (workload identity,
// K2). The API has no update, so every change replaces it.
type federatedCredentialResource struct{ base }

func newFederatedCredentialResource() resource.Resource { return &federatedCredentialResource{} }

var (
	_ resource.ResourceWithImportState = (*federatedCredentialResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*federatedCredentialResource)(nil)
)

type federatedCredentialModel struct {
	ID               types.String      `tfsdk:"id"`
	Organization     types.String      `tfsdk:"organization"`
	ServiceAccountID types.String      `tfsdk:"service_account_id"`
	Name             types.String      `tfsdk:"name"`
	Issuer           types.String      `tfsdk:"issuer"`
	Audience         types.String      `tfsdk:"audience"`
	Subject          types.String      `tfsdk:"subject"`
	Claims           types.Map         `tfsdk:"claims"`
	CreatedAt        timetypes.RFC3339 `tfsdk:"created_at"`
}

func federatedCredentialSchema() schema.Schema {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	return schema.Schema{
		MarkdownDescription: "A federated credential: the service account trusts tokens of an external OIDC issuer (GitHub Actions, GitLab CI, Kubernetes…) " +
			"that meet exact conditions, and a workload trades such a token for the account's access token (RFC 8693 token exchange, or the RFC 7523 JWT bearer grant). " +
			"Every condition is compared by exact equality; there are no wildcards. Any change replaces the credential.",
		Attributes: map[string]schema.Attribute{
			"id":           computedString("The federated credential's ID (`fed_…`)."),
			"organization": organizationAttribute(),
			"service_account_id": schema.StringAttribute{
				Required: true, MarkdownDescription: "The service account a matching token acts as.", PlanModifiers: replace,
			},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "A name for people, such as `github-deploy`.", PlanModifiers: replace,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"issuer": schema.StringAttribute{
				Required: true, MarkdownDescription: "The issuer's URL, compared exactly with the token's `iss`, such as `https://token.actions.githubusercontent.com`. It must be https.",
				PlanModifiers: replace,
			},
			"audience": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "What the token's `aud` must hold. Default: Tollgate's issuer URL.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"subject": schema.StringAttribute{
				Optional: true, MarkdownDescription: "What the token's `sub` must be exactly, such as `repo:acme/app:environment:prod`; unset for any.",
				PlanModifiers: replace, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"claims": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Further claims the token must carry, each with exactly this string value, such as `{ repository = \"acme/app\", ref = \"refs/heads/main\" }`.",
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"created_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the credential was added.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

var federatedCredentialAttrs = attributeNames(federatedCredentialSchema())

func (r *federatedCredentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_federated_credential"
}

func (r *federatedCredentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = federatedCredentialSchema()
}

func (r *federatedCredentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planOrganization(ctx, req, resp)
}

func (r *federatedCredentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan federatedCredentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := client.AddFederatedCredentialJSONRequestBody{Name: plan.Name.ValueString(), Issuer: plan.Issuer.ValueString(),
		Audience: plan.Audience.ValueStringPointer(), Subject: plan.Subject.ValueStringPointer()}
	if !plan.Claims.IsNull() {
		claims := map[string]string{}
		resp.Diagnostics.Append(plan.Claims.ElementsAs(ctx, &claims, false)...)
		if resp.Diagnostics.HasError() {
			return
		}
		body.Claims = &claims
	}
	fc, err := client.Decode[client.FederatedCredential](r.data.admin.AddFederatedCredential(ctx, plan.Organization.ValueString(), plan.ServiceAccountID.ValueString(), body))
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot add the federated credential", err, federatedCredentialAttrs)
		return
	}
	fromFederated(&plan, fc)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *federatedCredentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state federatedCredentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	l, err := client.Decode[client.FederatedCredentialList](r.data.admin.ListFederatedCredentials(ctx, state.Organization.ValueString(), state.ServiceAccountID.ValueString()))
	if notFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account's federated credentials", err, federatedCredentialAttrs)
		return
	}
	for i := range l.Items {
		if l.Items[i].Id == state.ID.ValueString() {
			fromFederated(&state, &l.Items[i])
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	resp.State.RemoveResource(ctx)
}

// Update is never called: every attribute replaces the resource.
func (r *federatedCredentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Federated credentials cannot be updated", "Every change replaces a federated credential. This is a bug in the provider.")
}

func (r *federatedCredentialResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state federatedCredentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.NoContent(r.data.admin.DeleteFederatedCredential(ctx, state.Organization.ValueString(), state.ServiceAccountID.ValueString(), state.ID.ValueString()))
	if err != nil && !notFound(err) {
		apiError(&resp.Diagnostics, "Cannot delete the federated credential", err, federatedCredentialAttrs)
	}
}

// ImportState takes "org/service_account_id/credential_id" or
// "service_account_id/credential_id".
func (r *federatedCredentialResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	org, parts, err := r.importOrg(req.ID, 2, `"<organization>/<service account ID>/<federated credential ID>" or "<service account ID>/<federated credential ID>"`)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	setImported(ctx, &resp.State, &resp.Diagnostics, map[string]string{"organization": org, "service_account_id": parts[0], "id": parts[1]})
}

// fromFederated sets m from the API's credential. No claims is a null
// map, as an unset attribute is, so that a configuration without claims
// plans no change.
func fromFederated(m *federatedCredentialModel, fc *client.FederatedCredential) {
	m.ID = types.StringValue(fc.Id)
	m.Name = types.StringValue(fc.Name)
	m.Issuer = types.StringValue(fc.Issuer)
	m.Audience = types.StringValue(fc.Audience)
	m.Subject = stringOrNull(fc.Subject)
	if len(fc.Claims) == 0 && (m.Claims.IsNull() || len(m.Claims.Elements()) == 0) {
		// Keep what the configuration said: null, or an empty map.
		if m.Claims.IsUnknown() {
			m.Claims = types.MapNull(types.StringType)
		}
	} else {
		m.Claims, _ = types.MapValueFrom(context.Background(), types.StringType, fc.Claims)
	}
	m.CreatedAt = timetypes.NewRFC3339TimeValue(fc.CreatedAt)
}
