package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// base is what every resource shares: the provider's data, set by
// Configure.
type base struct {
	data *providerData
}

// configure keeps the provider's data; before the provider is configured
// (validation) there is none.
func (b *base) configure(data any, diags *diag.Diagnostics) {
	if data == nil {
		return
	}
	d, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", data))
		return
	}
	b.data = d
}

func (b *base) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.configure(req.ProviderData, &resp.Diagnostics)
}

// planOrganization fills in the organization of a planned resource: its
// own, else the provider's. A resource that moves to another
// organization is replaced, since nothing moves between organizations.
func (b *base) planOrganization(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || b.data == nil {
		return // destroy, or validation before configure
	}
	var config types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("organization"), &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if config.IsUnknown() {
		// Known only at apply: it may name another organization.
		if !req.State.Raw.IsNull() {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("organization"))
		}
		return
	}
	org := config.ValueString()
	if org == "" {
		org = b.data.org
	}
	if org == "" {
		resp.Diagnostics.AddAttributeError(path.Root("organization"), "Missing organization",
			"Set this resource's organization, or the provider's organization (or the TOLLGATE_ORG environment variable), to the slug of a Tollgate organization.")
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("organization"), org)...)
	if req.State.Raw.IsNull() {
		return
	}
	var prior types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("organization"), &prior)...)
	if !prior.IsNull() && prior.ValueString() != org {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("organization"))
	}
}

// importOrg splits an import ID of want parts, optionally preceded by the
// organization ("org/a/b" or "a/b" for want 2), and returns the
// organization (the provider's when the ID has none) and the parts.
func (b *base) importOrg(id string, want int, format string) (string, []string, error) {
	parts := strings.Split(id, "/")
	for _, p := range parts {
		if p == "" {
			parts = nil
			break
		}
	}
	org := ""
	switch len(parts) {
	case want + 1:
		org, parts = parts[0], parts[1:]
	case want:
		if b.data != nil {
			org = b.data.org
		}
		if org == "" {
			return "", nil, fmt.Errorf("the import ID %q names no organization and the provider has none: use %s", id, format)
		}
	default:
		return "", nil, fmt.Errorf("the import ID %q is not of the form %s", id, format)
	}
	return org, parts, nil
}

// setImported writes the attributes an import ID names into the state
// Read then completes.
func setImported(ctx context.Context, state *tfsdk.State, diags *diag.Diagnostics, attrs map[string]string) {
	for name, v := range attrs {
		diags.Append(state.SetAttribute(ctx, path.Root(name), v)...)
	}
}

// attributeNames are the names of a resource schema's attributes, for
// pointing an API error's field at the attribute that holds it.
func attributeNames(s schema.Schema) map[string]bool {
	names := make(map[string]bool, len(s.Attributes))
	for n := range s.Attributes {
		names[n] = true
	}
	return names
}

// apiError reports err, the failure of what (such as "Cannot create the
// service account"): a refusal of the server shows its detail, code and
// field, on the attribute of that name when the resource has one.
func apiError(diags *diag.Diagnostics, what string, err error, attrs map[string]bool) {
	var e *client.Error
	if !errors.As(err, &e) {
		diags.AddError(what, err.Error())
		return
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	msg += fmt.Sprintf("\n\nTollgate answered %d, code %q", e.StatusCode, e.Code)
	if e.Field != "" {
		msg += fmt.Sprintf(", field %q", e.Field)
	}
	msg += "."
	switch e.Code {
	case client.ProblemCodeForbidden:
		msg += "\n\nThe provider's credential may not do this. Only a super_admin manages service accounts and their credentials, " +
			"and no machine credential (API token or access token) is ever super_admin: configure the provider with a \"tollgate login\" credential (tgc_…) of a super admin."
	case client.ProblemCodeUnauthenticated:
		msg += "\n\nTollgate did not accept the provider's credential: check token (or TOLLGATE_TOKEN)."
	case client.ProblemCodeRateLimited:
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf("\n\nRetry after %s.", e.RetryAfter)
		}
	}
	field, _, _ := strings.Cut(e.Field, "[")
	field, _, _ = strings.Cut(field, ".")
	if field != "" && attrs[field] {
		diags.AddAttributeError(path.Root(field), what, msg)
		return
	}
	diags.AddError(what, msg)
}

// notFound reports whether err is the server's 404.
func notFound(err error) bool { return client.HasCode(err, client.ProblemCodeNotFound) }

// unconfigured reports the use of a resource before the provider was
// configured, which Terraform never does.
func unconfigured(b *base, diags *diag.Diagnostics) bool {
	if b.data == nil {
		diags.AddError("Provider not configured", "The Tollgate provider was not configured before use. This is a bug in the provider or in Terraform.")
		return true
	}
	return false
}

// stringOrNull is s as a Terraform string, or null for nil.
func stringOrNull(s *string) types.String {
	if s == nil {
		return types.StringNull()
	}
	return types.StringValue(*s)
}
