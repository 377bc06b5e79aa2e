package provider

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// serviceAccountKeyResource is tollgate_service_account_key: a public key
// registered for private_key_jwt client authentication (RFC 7523). The API
// has no update: every change replaces the key, except a rewrite of the
// same key in another form (a JWK with other optional members, or PEM),
// which is recognised by its thumbprint and only updates the state.
type serviceAccountKeyResource struct{ base }

func newServiceAccountKeyResource() resource.Resource { return &serviceAccountKeyResource{} }

var (
	_ resource.ResourceWithImportState = (*serviceAccountKeyResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*serviceAccountKeyResource)(nil)
)

type serviceAccountKeyModel struct {
	ID               types.String      `tfsdk:"id"`
	Organization     types.String      `tfsdk:"organization"`
	ServiceAccountID types.String      `tfsdk:"service_account_id"`
	PublicKey        types.String      `tfsdk:"public_key"`
	ExpiresAt        timetypes.RFC3339 `tfsdk:"expires_at"`
	Kid              types.String      `tfsdk:"kid"`
	Alg              types.String      `tfsdk:"alg"`
	Thumbprint       types.String      `tfsdk:"thumbprint"`
	CreatedAt        timetypes.RFC3339 `tfsdk:"created_at"`
}

func serviceAccountKeySchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A public key of a service account, for `private_key_jwt` client authentication (RFC 7523): " +
			"the workload signs a client assertion with the private key, which never reaches Tollgate or Terraform.",
		Attributes: map[string]schema.Attribute{
			"id":           computedString("The key's ID (`ck_…`)."),
			"organization": organizationAttribute(),
			"service_account_id": schema.StringAttribute{
				Required: true, MarkdownDescription: "The service account the key belongs to. A change replaces the key.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"public_key": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The public key: a JWK (JSON object, e.g. from `jsonencode` or a file) or a PEM `PUBLIC KEY` block. " +
					"EdDSA (Ed25519), ES256, RS256 or PS256; RSA keys have at least 2048 bits. A private key is refused. " +
					"Another key replaces the resource; the same key written differently does not.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(otherKey,
					"A different key replaces the resource; the same key in another form does not.",
					"A different key replaces the resource; the same key in another form does not.")},
			},
			"expires_at": schema.StringAttribute{
				Optional: true, CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "When the key stops being accepted (RFC 3339, in the future). A change replaces the key.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"kid":        computedString("The key ID: the JWK's own `kid`, else its RFC 7638 thumbprint."),
			"alg":        computedString("The signature algorithm: `EdDSA`, `ES256`, `RS256` or `PS256`."),
			"thumbprint": computedString("The RFC 7638 SHA-256 thumbprint, base64url."),
			"created_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the key was registered.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

var serviceAccountKeyAttrs = attributeNames(serviceAccountKeySchema())

// otherKey asks for replacement unless the configured key has the
// thumbprint of the key in the state.
func otherKey(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	var state types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("thumbprint"), &state)...)
	got, err := thumbprint(req.ConfigValue.ValueString())
	resp.RequiresReplace = err != nil || state.IsNull() || got != state.ValueString()
}

func (r *serviceAccountKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service_account_key"
}

func (r *serviceAccountKeyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = serviceAccountKeySchema()
}

func (r *serviceAccountKeyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planOrganization(ctx, req, resp)
}

func (r *serviceAccountKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan serviceAccountKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org, said := plan.Organization.ValueString(), plan.ServiceAccountID.ValueString()
	var body client.AddServiceAccountKeyJSONRequestBody
	// A string member holds either form; the server reads a JWK or PEM.
	if err := body.PublicKey.FromAddServiceAccountKeyJSONBodyPublicKey1(plan.PublicKey.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("public_key"), "Cannot encode the public key", err.Error())
		return
	}
	if !plan.ExpiresAt.IsNull() {
		t, d := plan.ExpiresAt.ValueRFC3339Time()
		if resp.Diagnostics.Append(d...); d.HasError() {
			return
		}
		body.ExpiresAt = &t
	}
	k, err := client.Decode[client.ClientKey](r.data.admin.AddServiceAccountKey(ctx, org, said, body))
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot register the service account key", err, serviceAccountKeyAttrs)
		return
	}
	fromClientKey(&plan, k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serviceAccountKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state serviceAccountKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	l, err := client.Decode[client.ClientKeyList](r.data.admin.ListServiceAccountKeys(ctx, state.Organization.ValueString(), state.ServiceAccountID.ValueString()))
	if notFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account's keys", err, serviceAccountKeyAttrs)
		return
	}
	for i := range l.Items {
		if l.Items[i].Id == state.ID.ValueString() {
			fromClientKey(&state, &l.Items[i])
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	resp.State.RemoveResource(ctx)
}

// Update records the same key written in another form; any other change
// replaces the resource.
func (r *serviceAccountKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan serviceAccountKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serviceAccountKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state serviceAccountKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.NoContent(r.data.admin.DeleteServiceAccountKey(ctx, state.Organization.ValueString(), state.ServiceAccountID.ValueString(), state.ID.ValueString()))
	if err != nil && !notFound(err) {
		apiError(&resp.Diagnostics, "Cannot delete the service account key", err, serviceAccountKeyAttrs)
	}
}

// ImportState takes "org/service_account_id/key_id" or
// "service_account_id/key_id". public_key is then the JWK the server
// stored.
func (r *serviceAccountKeyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	org, parts, err := r.importOrg(req.ID, 2, `"<organization>/<service account ID>/<key ID>" or "<service account ID>/<key ID>"`)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	setImported(ctx, &resp.State, &resp.Diagnostics, map[string]string{"organization": org, "service_account_id": parts[0], "id": parts[1]})
}

// fromClientKey sets m from the API's key. public_key keeps the
// configuration's text; it is the stored JWK only when the state had none
// (an import).
func fromClientKey(m *serviceAccountKeyModel, k *client.ClientKey) {
	m.ID = types.StringValue(k.Id)
	m.Kid = types.StringValue(k.Kid)
	m.Alg = types.StringValue(string(k.Alg))
	m.Thumbprint = types.StringValue(k.Thumbprint)
	m.CreatedAt = timetypes.NewRFC3339TimeValue(k.CreatedAt)
	m.ExpiresAt = timetypes.NewRFC3339TimePointerValue(k.ExpiresAt)
	if m.PublicKey.IsNull() || strings.TrimSpace(m.PublicKey.ValueString()) == "" {
		if b, err := json.Marshal(k.PublicKey); err == nil {
			m.PublicKey = types.StringValue(string(b))
		}
	}
}
