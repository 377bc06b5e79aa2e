package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// rotatedAction is the audit action of a secret rotation.
const rotatedAction = "service_account.secret_rotated"

// serviceAccountSecretResource is tollgate_service_account_secret: a
// client secret Terraform owns. Creating it rotates the account's secret
// (the previous one keeps working for grace_period_seconds); destroying it
// only forgets it, since the API cannot delete a secret without making
// another.
//
// Read notices a rotation made elsewhere (the console, the CLI) through
// the audit log: when the account's newest rotation is not the one this
// resource made, the secret Terraform holds is no longer current, and the
// resource leaves the state so that the next apply rotates again.
type serviceAccountSecretResource struct{ base }

func newServiceAccountSecretResource() resource.Resource { return &serviceAccountSecretResource{} }

var (
	_ resource.ResourceWithImportState = (*serviceAccountSecretResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*serviceAccountSecretResource)(nil)
)

type serviceAccountSecretModel struct {
	ID                      types.String      `tfsdk:"id"`
	Organization            types.String      `tfsdk:"organization"`
	ServiceAccountID        types.String      `tfsdk:"service_account_id"`
	Keepers                 types.Map         `tfsdk:"keepers"`
	GracePeriodSeconds      types.Int64       `tfsdk:"grace_period_seconds"`
	ClientID                types.String      `tfsdk:"client_id"`
	ClientSecret            types.String      `tfsdk:"client_secret"`
	PreviousSecretExpiresAt timetypes.RFC3339 `tfsdk:"previous_secret_expires_at"`
	RotationID              types.String      `tfsdk:"rotation_id"`
	RotatedAt               timetypes.RFC3339 `tfsdk:"rotated_at"`
}

func serviceAccountSecretSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A client secret of a service account, owned by Terraform. Creating it rotates the account's secret; " +
			"destroying it only removes it from the state (the account keeps its secret).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The service account's ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"organization": organizationAttribute(),
			"service_account_id": schema.StringAttribute{
				Required: true, MarkdownDescription: "The service account whose secret this is. A change makes a secret for the other account.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"keepers": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Arbitrary values; any change rotates the secret (the resource is replaced).",
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"grace_period_seconds": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "How long the previous secret keeps working after a rotation, 0 to 604800 (7 days). " +
					"A change takes effect at the next rotation.",
				Validators: []validator.Int64{int64validator.Between(0, 604800)},
			},
			"client_id": computedString("The service account's OAuth 2.0 client ID."),
			"client_secret": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "The secret (`tgs_…`), set when the resource is created and kept in the state: the server never shows it again. Null after an import.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"previous_secret_expires_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "When the secret this rotation replaced stops working; null if there was none.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"rotation_id": computedString("The ID of the audit event of this rotation (`service_account.secret_rotated`)."),
			"rotated_at": schema.StringAttribute{
				Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the secret was made.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

var serviceAccountSecretAttrs = attributeNames(serviceAccountSecretSchema())

func (r *serviceAccountSecretResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service_account_secret"
}

func (r *serviceAccountSecretResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = serviceAccountSecretSchema()
}

func (r *serviceAccountSecretResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planOrganization(ctx, req, resp)
}

func (r *serviceAccountSecretResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var plan serviceAccountSecretModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org, id := plan.Organization.ValueString(), plan.ServiceAccountID.ValueString()
	grace := int(plan.GracePeriodSeconds.ValueInt64())
	rot, err := client.Decode[client.SecretRotation](r.data.admin.RotateServiceAccountSecret(ctx, org, id, client.RotateServiceAccountSecretJSONRequestBody{GracePeriodSeconds: &grace}))
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot rotate the service account's secret", err, serviceAccountSecretAttrs)
		return
	}
	plan.ID = types.StringValue(id)
	plan.ClientID = types.StringValue(rot.ClientId)
	plan.ClientSecret = types.StringValue(rot.ClientSecret)
	plan.PreviousSecretExpiresAt = timetypes.NewRFC3339TimePointerValue(rot.PreviousSecretExpiresAt)
	plan.RotationID, plan.RotatedAt = types.StringNull(), timetypes.NewRFC3339Null()
	// The rotation's audit event identifies it, for Read to tell a later
	// rotation made elsewhere. Without it the secret is still good: warn.
	ev, err := r.newestRotation(ctx, org, id)
	switch {
	case err != nil:
		resp.Diagnostics.AddWarning("Cannot find the rotation in the audit log",
			fmt.Sprintf("The secret was rotated, but its audit event could not be read (%s), so a later rotation outside Terraform will not be noticed until this resource is replaced.", err))
	case ev != nil:
		plan.RotationID, plan.RotatedAt = types.StringValue(ev.Id), timetypes.NewRFC3339TimeValue(ev.Time)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// newestRotation returns the account's newest rotation event, or nil.
func (r *serviceAccountSecretResource) newestRotation(ctx context.Context, org, id string) (*client.AuditEvent, error) {
	action, limit := rotatedAction, 1
	l, err := client.Decode[client.AuditEventList](r.data.admin.ListAuditEvents(ctx, org, &client.ListAuditEventsParams{Action: &action, TargetId: &id, Limit: &limit}))
	if err != nil || len(l.Items) == 0 {
		return nil, err
	}
	return &l.Items[0], nil
}

func (r *serviceAccountSecretResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if unconfigured(&r.base, &resp.Diagnostics) {
		return
	}
	var state serviceAccountSecretModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	org, id := state.Organization.ValueString(), state.ServiceAccountID.ValueString()
	sa, err := client.Decode[client.ServiceAccount](r.data.admin.GetServiceAccount(ctx, org, id))
	if notFound(err) {
		resp.State.RemoveResource(ctx) // the account, and so its secrets, are gone
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account of the secret", err, serviceAccountSecretAttrs)
		return
	}
	state.ID = types.StringValue(sa.Id)
	state.ClientID = types.StringValue(sa.ClientId)
	if state.GracePeriodSeconds.IsNull() {
		state.GracePeriodSeconds = types.Int64Value(0) // imported
	}
	ev, err := r.newestRotation(ctx, org, id)
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read the service account's rotations from the audit log", err, serviceAccountSecretAttrs)
		return
	}
	switch {
	case ev == nil:
	case state.RotationID.IsNull():
		// Imported (or created without its event): adopt the newest.
		state.RotationID, state.RotatedAt = types.StringValue(ev.Id), timetypes.NewRFC3339TimeValue(ev.Time)
	case ev.Id != state.RotationID.ValueString():
		resp.Diagnostics.AddWarning("Service account secret rotated outside Terraform",
			fmt.Sprintf("The secret of service account %s was rotated at %s by %s, after the rotation Terraform made: the secret in the state is no longer the current one. "+
				"The resource is removed from the state, and the next apply rotates again.", id, ev.Time.Format("2006-01-02T15:04:05Z07:00"), actorName(ev.Actor)))
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// actorName names an audit actor for a person to read.
func actorName(p client.Principal) string {
	if p.Name != "" {
		return p.Name + " (" + p.Id + ")"
	}
	return p.Type + " " + p.Id
}

// Update only records a new grace_period_seconds, which the next
// rotation uses; every other change replaces the resource.
func (r *serviceAccountSecretResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan serviceAccountSecretModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete forgets the secret: the account keeps it (to end it, rotate
// with another secret resource, or delete the account).
func (r *serviceAccountSecretResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState takes "org/service_account_id" or "service_account_id". The
// imported resource has no client_secret: the server never shows a secret
// again.
func (r *serviceAccountSecretResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	org, parts, err := r.importOrg(req.ID, 1, `"<organization>/<service account ID>" or "<service account ID>"`)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	setImported(ctx, &resp.State, &resp.Diagnostics, map[string]string{"id": parts[0], "service_account_id": parts[0], "organization": org})
}
