package provider

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tollgate/tollgate/client"
)

// Address is the provider's registry address, which main serves.
const Address = "registry.terraform.io/tollgate/tollgate"

// requestTimeout bounds each request of the provider's default HTTP
// client.
const requestTimeout = time.Minute

// Option changes how the provider reaches Tollgate.
type Option func(*tollgateProvider)

// WithHTTPClient makes the provider send its requests with hc, for
// instance a client whose cookie jar holds a signed-in session (then the
// token may be left unset), or one with its own TLS roots.
func WithHTTPClient(hc *http.Client) Option {
	return func(p *tollgateProvider) { p.httpClient = hc }
}

// New returns the factory of the Tollgate provider of that version, as
// providerserver.Serve and providerserver.NewProtocol6WithError take it.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &tollgateProvider{version: version}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

var _ provider.ProviderWithValidateConfig = (*tollgateProvider)(nil)

// tollgateProvider is the provider "tollgate".
type tollgateProvider struct {
	version    string
	httpClient *http.Client
}

// providerModel is the provider block.
type providerModel struct {
	Server       types.String `tfsdk:"server"`
	Token        types.String `tfsdk:"token"`
	Organization types.String `tfsdk:"organization"`
}

// providerData is what Configure hands every resource and data source.
type providerData struct {
	admin *client.Admin
	// server is the base URL, without a trailing slash.
	server string
	// org is the provider's organization slug, or "" when each resource
	// must name its own.
	org string
}

func (p *tollgateProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "tollgate"
	resp.Version = p.version
}

func (p *tollgateProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages Tollgate's service accounts and their credentials through the admin API.",
		Attributes: map[string]schema.Attribute{
			"server": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Base URL of the Tollgate server, such as `https://tollgate.example.com`. Default: the `TOLLGATE_SERVER` environment variable.",
			},
			"token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Bearer credential. A `tollgate login` credential (`tgc_…`) of a super admin manages service accounts; " +
					"a machine credential (an API token or an access token) acts with its service account's role, which is never super_admin. " +
					"Default: the `TOLLGATE_TOKEN` environment variable.",
			},
			"organization": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Slug of the organization resources belong to unless they set their own `organization`. Default: the `TOLLGATE_ORG` environment variable.",
			},
		},
	}
}

// ValidateConfig checks the values that are known before any variable or
// resource is: a server that is not an http(s) URL fails here, at
// validation, rather than at the first request.
func (p *tollgateProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if v := m.Server; !v.IsNull() && !v.IsUnknown() {
		if msg := checkServer(v.ValueString()); msg != "" {
			resp.Diagnostics.AddAttributeError(path.Root("server"), "Invalid Tollgate server", msg)
		}
	}
	if v := m.Token; !v.IsNull() && !v.IsUnknown() && strings.ContainsAny(v.ValueString(), "\r\n") {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Invalid Tollgate token", "The token holds a line break.")
	}
}

// Configure builds the client from the provider block, each attribute
// falling back to its environment variable.
func (p *tollgateProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]types.String{"server": m.Server, "token": m.Token, "organization": m.Organization} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown Tollgate "+name,
				"The provider's "+name+" depends on a value that is known only after apply. Set it from a variable or the environment instead.")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	server := orEnv(m.Server, "TOLLGATE_SERVER")
	token := orEnv(m.Token, "TOLLGATE_TOKEN")
	org := orEnv(m.Organization, "TOLLGATE_ORG")
	if server == "" {
		resp.Diagnostics.AddAttributeError(path.Root("server"), "Missing Tollgate server",
			"Set the provider's server, or the TOLLGATE_SERVER environment variable, to the base URL of the Tollgate server, such as https://tollgate.example.com.")
	} else if msg := checkServer(server); msg != "" {
		resp.Diagnostics.AddAttributeError(path.Root("server"), "Invalid Tollgate server", msg)
	}
	if token == "" && p.httpClient == nil {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing Tollgate token",
			"Set the provider's token, or the TOLLGATE_TOKEN environment variable: a \"tollgate login\" credential (tgc_…) of a super admin to manage service accounts, "+
				"or an API token or access token to act with its service account's role.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	hc := p.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	// The audit log records the user agent of every change: name the
	// provider in it.
	ua := "terraform-provider-tollgate/" + p.version + " " + client.UserAgent
	opts := []client.ClientOption{client.WithHTTPClient(hc), client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("User-Agent", ua)
		return nil
	})}
	server = strings.TrimRight(server, "/")
	admin, err := client.New(server, token, opts...)
	if err != nil {
		resp.Diagnostics.AddError("Cannot configure the Tollgate client", err.Error())
		return
	}
	data := &providerData{admin: admin, server: server, org: org}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *tollgateProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newServiceAccountResource,
		newServiceAccountSecretResource,
		newServiceAccountKeyResource,
		newFederatedCredentialResource,
		newAPITokenResource,
	}
}

func (p *tollgateProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newServiceAccountDataSource}
}

// orEnv is v, or the environment variable name when v is null or empty.
func orEnv(v types.String, name string) string {
	if s := v.ValueString(); s != "" {
		return s
	}
	return os.Getenv(name)
}

// checkServer returns what is wrong with a server URL, or "".
func checkServer(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "The server is not a URL: " + err.Error()
	case u.Scheme != "http" && u.Scheme != "https":
		return "The server must be an http or https URL, such as https://tollgate.example.com; got " + s + "."
	case u.Host == "":
		return "The server URL has no host: " + s + "."
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "The server URL must be a base URL, without user information, query or fragment: " + s + "."
	}
	return ""
}
