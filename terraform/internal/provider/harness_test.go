package provider_test

// A small Terraform for tests: it drives the provider through the plugin
// protocol (tfprotov6) the way Terraform core does for plan, apply,
// refresh, import and destroy, and checks the provider's answers the way
// core checks them (a plan keeps configured values; an apply keeps every
// value the plan knew; after an apply, refreshing and planning the same
// configuration again changes nothing).

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tollgate/tollgate/terraform/internal/provider"
)

// unknown stands for a value known only after apply, in configurations
// and in decoded states.
type unknownValue struct{}

var unknown = unknownValue{}

func (unknownValue) String() string { return "(known after apply)" }

// cfg is a configuration: attribute names to Go values (string, int,
// bool, map[string]string, []string, nil, unknown). Attributes left out
// are null.
type cfg map[string]any

// tf is one configured provider instance.
type tf struct {
	t      *testing.T
	server tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
}

// newTF starts the provider with opts and fetches its schema, without
// configuring it.
func newTF(t *testing.T, opts ...provider.Option) *tf {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(provider.New("test", opts...)())()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := diagErrors(schema.Diagnostics); err != nil {
		t.Fatal(err)
	}
	return &tf{t: t, server: server, schema: schema}
}

// configured returns a provider configured with c, failing t on any
// error.
func configured(t *testing.T, c cfg, opts ...provider.Option) *tf {
	t.Helper()
	h := newTF(t, opts...)
	if err := diagErrors(h.configure(c)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return h
}

// configure validates and configures the provider with c, as Terraform
// does before any plan, and returns the diagnostics.
func (h *tf) configure(c cfg) []*tfprotov6.Diagnostic {
	h.t.Helper()
	typ := h.schema.Provider.ValueType()
	dv := h.dynamic(typ, h.value(typ, c))
	v, err := h.server.ValidateProviderConfig(h.t.Context(), &tfprotov6.ValidateProviderConfigRequest{Config: dv})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(v.Diagnostics) != nil {
		return v.Diagnostics
	}
	resp, err := h.server.ConfigureProvider(h.t.Context(), &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.10.0", Config: dv})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Diagnostics
}

// resourceSchema returns the schema of a resource type.
func (h *tf) resourceSchema(typ string) *tfprotov6.Schema {
	h.t.Helper()
	s, ok := h.schema.ResourceSchemas[typ]
	if !ok {
		h.t.Fatalf("no resource type %s", typ)
	}
	return s
}

// attribute returns an attribute of a resource type's schema.
func (h *tf) attribute(typ, name string) *tfprotov6.SchemaAttribute {
	h.t.Helper()
	for _, a := range h.resourceSchema(typ).Block.Attributes {
		if a.Name == name {
			return a
		}
	}
	h.t.Fatalf("%s has no attribute %s", typ, name)
	return nil
}

// res is a resource in the state.
type res struct {
	typ     string
	state   tftypes.Value
	private []byte
}

// attrs decodes the state to Go values.
func (r *res) attrs() map[string]any { return decode(r.state).(map[string]any) }

// str returns a string attribute of the state ("" when null).
func (r *res) str(name string) string {
	s, _ := r.attrs()[name].(string)
	return s
}

// planned is PlanResourceChange's answer.
type planned struct {
	value   tftypes.Value
	private []byte
	replace []string
	diags   []*tfprotov6.Diagnostic
}

// changes lists the attributes the plan changes from prior.
func (p *planned) changes(prior tftypes.Value) []string {
	var out []string
	before, _ := decode(prior).(map[string]any)
	for name, v := range decode(p.value).(map[string]any) {
		if fmt.Sprint(v) != fmt.Sprint(before[name]) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// validate runs ValidateResourceConfig.
func (h *tf) validate(typ string, c cfg) []*tfprotov6.Diagnostic {
	h.t.Helper()
	st := h.resourceSchema(typ).ValueType()
	resp, err := h.server.ValidateResourceConfig(h.t.Context(), &tfprotov6.ValidateResourceConfigRequest{TypeName: typ, Config: h.dynamic(st, h.value(st, c))})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Diagnostics
}

// plan validates c and plans the change from prior (nil: a new resource)
// to c, checking the plan as Terraform does.
func (h *tf) plan(typ string, prior *res, c cfg) *planned {
	h.t.Helper()
	if d := h.validate(typ, c); diagErrors(d) != nil {
		return &planned{diags: d}
	}
	s := h.resourceSchema(typ)
	st := s.ValueType()
	config := h.value(st, c)
	priorVal, priorPrivate := tftypes.NewValue(st, nil), []byte(nil)
	if prior != nil {
		priorVal, priorPrivate = prior.state, prior.private
	}
	resp, err := h.server.PlanResourceChange(h.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: typ, PriorState: h.dynamic(st, priorVal), ProposedNewState: h.dynamic(st, proposedNew(s, priorVal, config)),
		Config: h.dynamic(st, config), PriorPrivate: priorPrivate,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	p := &planned{private: resp.PlannedPrivate, diags: resp.Diagnostics}
	if diagErrors(resp.Diagnostics) != nil {
		return p
	}
	p.value = h.undynamic(st, resp.PlannedState)
	for _, ap := range resp.RequiresReplace {
		p.replace = append(p.replace, pathString(ap))
	}
	sort.Strings(p.replace)
	h.checkPlan(s, config, p.value)
	return p
}

// applyPlan applies a plan from prior (nil for a create) and checks the
// new state against it.
func (h *tf) applyPlan(typ string, prior *res, c cfg, p *planned) (*res, []*tfprotov6.Diagnostic) {
	h.t.Helper()
	s := h.resourceSchema(typ)
	st := s.ValueType()
	priorVal := tftypes.NewValue(st, nil)
	if prior != nil {
		priorVal = prior.state
	}
	resp, err := h.server.ApplyResourceChange(h.t.Context(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typ, PriorState: h.dynamic(st, priorVal), PlannedState: h.dynamic(st, p.value),
		Config: h.dynamic(st, h.value(st, c)), PlannedPrivate: p.private,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var r *res
	if resp.NewState != nil {
		if v := h.undynamic(st, resp.NewState); !v.IsNull() {
			r = &res{typ: typ, state: v, private: resp.Private}
		}
	}
	if diagErrors(resp.Diagnostics) == nil && r != nil {
		h.checkApplied(p.value, r.state)
	}
	return r, resp.Diagnostics
}

// create plans and applies a new resource, failing t on any error, and
// checks that a second plan is empty.
func (h *tf) create(typ string, c cfg) *res {
	h.t.Helper()
	r, diags := h.tryCreate(typ, c)
	if err := diagErrors(diags); err != nil {
		h.t.Fatalf("create %s: %v", typ, err)
	}
	h.wantNoChanges(r, c)
	return r
}

// tryCreate plans and applies a new resource and returns the
// diagnostics of whichever step failed.
func (h *tf) tryCreate(typ string, c cfg) (*res, []*tfprotov6.Diagnostic) {
	h.t.Helper()
	p := h.plan(typ, nil, c)
	if diagErrors(p.diags) != nil {
		return nil, p.diags
	}
	return h.applyPlan(typ, nil, c, p)
}

// apply changes r to c as "terraform apply" does: refresh, plan, and then
// an update in place or, when the plan requires it, a destroy and a
// create. It returns the new resource, the attributes whose change
// required replacement (none for an update in place), and checks that a
// second plan is empty.
func (h *tf) apply(r *res, c cfg) (*res, []string) {
	h.t.Helper()
	if h.refresh(r) {
		h.t.Fatalf("%s %s vanished on refresh", r.typ, r.str("id"))
	}
	p := h.plan(r.typ, r, c)
	if err := diagErrors(p.diags); err != nil {
		h.t.Fatalf("plan %s: %v", r.typ, err)
	}
	var next *res
	var diags []*tfprotov6.Diagnostic
	if len(p.replace) > 0 {
		h.destroy(r)
		next, diags = h.tryCreate(r.typ, c)
	} else {
		next, diags = h.applyPlan(r.typ, r, c, p)
	}
	if err := diagErrors(diags); err != nil {
		h.t.Fatalf("apply %s: %v", r.typ, err)
	}
	h.wantNoChanges(next, c)
	return next, p.replace
}

// wantNoChanges refreshes r and plans c again: the plan must change
// nothing, as after every successful apply.
func (h *tf) wantNoChanges(r *res, c cfg) {
	h.t.Helper()
	if h.refresh(r) {
		h.t.Fatalf("%s vanished on refresh right after apply", r.typ)
	}
	p := h.plan(r.typ, r, c)
	if err := diagErrors(p.diags); err != nil {
		h.t.Fatalf("plan after apply: %v", err)
	}
	if ch := p.changes(r.state); len(ch) > 0 || len(p.replace) > 0 {
		h.t.Fatalf("the plan after apply is not empty: changes %v, replace %v\nstate %v\nplan  %v", ch, p.replace, decode(r.state), decode(p.value))
	}
}

// refresh reads r from the API, updating it, and reports whether the
// resource is gone (Read removed it from the state).
func (h *tf) refresh(r *res) (gone bool) {
	h.t.Helper()
	gone, diags := h.tryRefresh(r)
	if err := diagErrors(diags); err != nil {
		h.t.Fatalf("refresh %s: %v", r.typ, err)
	}
	return gone
}

// tryRefresh is refresh returning the diagnostics (warnings too).
func (h *tf) tryRefresh(r *res) (bool, []*tfprotov6.Diagnostic) {
	h.t.Helper()
	st := h.resourceSchema(r.typ).ValueType()
	resp, err := h.server.ReadResource(h.t.Context(), &tfprotov6.ReadResourceRequest{TypeName: r.typ, CurrentState: h.dynamic(st, r.state), Private: r.private})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(resp.Diagnostics) != nil {
		return false, resp.Diagnostics
	}
	v := h.undynamic(st, resp.NewState)
	if v.IsNull() {
		return true, resp.Diagnostics
	}
	if !v.IsFullyKnown() {
		h.t.Fatalf("Read left unknown values: %v", decode(v))
	}
	r.state, r.private = v, resp.Private
	return false, resp.Diagnostics
}

// destroy plans and applies the resource's deletion.
func (h *tf) destroy(r *res) {
	h.t.Helper()
	if diags := h.tryDestroy(r); diagErrors(diags) != nil {
		h.t.Fatalf("destroy %s: %v", r.typ, diagErrors(diags))
	}
}

func (h *tf) tryDestroy(r *res) []*tfprotov6.Diagnostic {
	h.t.Helper()
	st := h.resourceSchema(r.typ).ValueType()
	null := tftypes.NewValue(st, nil)
	resp, err := h.server.PlanResourceChange(h.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: r.typ, PriorState: h.dynamic(st, r.state), ProposedNewState: h.dynamic(st, null), Config: h.dynamic(st, null), PriorPrivate: r.private,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(resp.Diagnostics) != nil {
		return resp.Diagnostics
	}
	_, diags := h.applyPlan(r.typ, r, nil, &planned{value: null, private: resp.PlannedPrivate})
	return diags
}

// importState imports id as Terraform does: ImportResourceState, then a
// Read of the imported state.
func (h *tf) importState(typ, id string) *res {
	h.t.Helper()
	r, diags := h.tryImport(typ, id)
	if err := diagErrors(diags); err != nil {
		h.t.Fatalf("import %s %s: %v", typ, id, err)
	}
	return r
}

func (h *tf) tryImport(typ, id string) (*res, []*tfprotov6.Diagnostic) {
	h.t.Helper()
	st := h.resourceSchema(typ).ValueType()
	resp, err := h.server.ImportResourceState(h.t.Context(), &tfprotov6.ImportResourceStateRequest{TypeName: typ, ID: id})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(resp.Diagnostics) != nil {
		return nil, resp.Diagnostics
	}
	if len(resp.ImportedResources) != 1 {
		h.t.Fatalf("import answered %d resources", len(resp.ImportedResources))
	}
	r := &res{typ: typ, state: h.undynamic(st, resp.ImportedResources[0].State), private: resp.ImportedResources[0].Private}
	gone, diags := h.tryRefresh(r)
	if gone {
		return nil, append(diags, &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError, Summary: "Cannot import non-existent remote object"})
	}
	return r, diags
}

// readData reads a data source with configuration c.
func (h *tf) readData(typ string, c cfg) (map[string]any, []*tfprotov6.Diagnostic) {
	h.t.Helper()
	s, ok := h.schema.DataSourceSchemas[typ]
	if !ok {
		h.t.Fatalf("no data source %s", typ)
	}
	st := s.ValueType()
	dv := h.dynamic(st, h.value(st, c))
	v, err := h.server.ValidateDataResourceConfig(h.t.Context(), &tfprotov6.ValidateDataResourceConfigRequest{TypeName: typ, Config: dv})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(v.Diagnostics) != nil {
		return nil, v.Diagnostics
	}
	resp, err := h.server.ReadDataSource(h.t.Context(), &tfprotov6.ReadDataSourceRequest{TypeName: typ, Config: dv})
	if err != nil {
		h.t.Fatal(err)
	}
	if diagErrors(resp.Diagnostics) != nil {
		return nil, resp.Diagnostics
	}
	return decode(h.undynamic(st, resp.State)).(map[string]any), resp.Diagnostics
}

// checkPlan checks a plan as Terraform core does: every configured value
// is planned as configured, and a value neither configured nor computed
// stays null.
func (h *tf) checkPlan(s *tfprotov6.Schema, config, plan tftypes.Value) {
	h.t.Helper()
	var cv, pv map[string]tftypes.Value
	if err := config.As(&cv); err != nil {
		h.t.Fatal(err)
	}
	if err := plan.As(&pv); err != nil {
		h.t.Fatal(err)
	}
	for _, a := range s.Block.Attributes {
		c, p := cv[a.Name], pv[a.Name]
		switch {
		case !c.IsNull() && !c.Equal(p):
			h.t.Fatalf("invalid plan: %s is configured as %v but planned as %v", a.Name, c, p)
		case c.IsNull() && !a.Computed && !p.IsNull():
			h.t.Fatalf("invalid plan: %s is not configured nor computed but planned as %v", a.Name, p)
		}
	}
}

// checkApplied checks that the new state keeps every value the plan
// knew, and knows every value.
func (h *tf) checkApplied(plan, state tftypes.Value) {
	h.t.Helper()
	var pv, sv map[string]tftypes.Value
	if err := plan.As(&pv); err != nil {
		h.t.Fatal(err)
	}
	if err := state.As(&sv); err != nil {
		h.t.Fatal(err)
	}
	for name, p := range pv {
		if !sv[name].IsFullyKnown() {
			h.t.Fatalf("inconsistent result after apply: %s is still unknown", name)
		}
		if p.IsFullyKnown() && !p.Equal(sv[name]) {
			h.t.Fatalf("inconsistent result after apply: %s was planned as %v but is now %v", name, p, sv[name])
		}
	}
}

// proposedNew is Terraform's proposed new state: the configuration, with
// prior values for computed attributes left unset.
func proposedNew(s *tfprotov6.Schema, prior, config tftypes.Value) tftypes.Value {
	var cv map[string]tftypes.Value
	if err := config.As(&cv); err != nil {
		panic(err)
	}
	pv := map[string]tftypes.Value{}
	if !prior.IsNull() {
		if err := prior.As(&pv); err != nil {
			panic(err)
		}
	}
	out := map[string]tftypes.Value{}
	for _, a := range s.Block.Attributes {
		out[a.Name] = cv[a.Name]
		if cv[a.Name].IsNull() && a.Computed && !prior.IsNull() {
			out[a.Name] = pv[a.Name]
		}
	}
	return tftypes.NewValue(config.Type(), out)
}

// value builds a value of typ from a Go value.
func (h *tf) value(typ tftypes.Type, v any) tftypes.Value {
	h.t.Helper()
	if v == nil {
		return tftypes.NewValue(typ, nil)
	}
	if _, ok := v.(unknownValue); ok {
		return tftypes.NewValue(typ, tftypes.UnknownValue)
	}
	switch typ := typ.(type) {
	case tftypes.Object:
		c, ok := v.(cfg)
		if !ok {
			h.t.Fatalf("want a cfg for an object, got %T", v)
		}
		for name := range c {
			if _, ok := typ.AttributeTypes[name]; !ok {
				h.t.Fatalf("no attribute %q", name)
			}
		}
		vals := map[string]tftypes.Value{}
		for name, at := range typ.AttributeTypes {
			vals[name] = h.value(at, c[name])
		}
		return tftypes.NewValue(typ, vals)
	case tftypes.Map:
		vals := map[string]tftypes.Value{}
		for k, e := range v.(map[string]string) {
			vals[k] = tftypes.NewValue(typ.ElementType, e)
		}
		return tftypes.NewValue(typ, vals)
	case tftypes.Set:
		var vals []tftypes.Value
		for _, e := range v.([]string) {
			vals = append(vals, tftypes.NewValue(typ.ElementType, e))
		}
		return tftypes.NewValue(typ, vals)
	case tftypes.List:
		var vals []tftypes.Value
		for _, e := range v.([]string) {
			vals = append(vals, tftypes.NewValue(typ.ElementType, e))
		}
		return tftypes.NewValue(typ, vals)
	}
	switch {
	case typ.Is(tftypes.Number):
		switch n := v.(type) {
		case int:
			return tftypes.NewValue(typ, big.NewFloat(float64(n)))
		case int64:
			return tftypes.NewValue(typ, big.NewFloat(float64(n)))
		}
	case typ.Is(tftypes.String), typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, v)
	}
	h.t.Fatalf("cannot make a %s of %T", typ, v)
	return tftypes.Value{}
}

// decode turns a value into Go values: nil, unknown, string, int64, bool,
// map[string]any, []any (sets sorted).
func decode(v tftypes.Value) any {
	if !v.IsKnown() {
		return unknown
	}
	if v.IsNull() {
		return nil
	}
	typ := v.Type()
	switch {
	case typ.Is(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case typ.Is(tftypes.Number):
		var f big.Float
		_ = v.As(&f)
		i, _ := f.Int64()
		return i
	case typ.Is(tftypes.Bool):
		var b bool
		_ = v.As(&b)
		return b
	case typ.Is(tftypes.Object{}), typ.Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		_ = v.As(&m)
		out := map[string]any{}
		for k, e := range m {
			out[k] = decode(e)
		}
		return out
	case typ.Is(tftypes.Set{}), typ.Is(tftypes.List{}):
		var l []tftypes.Value
		_ = v.As(&l)
		out := []any{}
		for _, e := range l {
			out = append(out, decode(e))
		}
		if typ.Is(tftypes.Set{}) {
			slices.SortFunc(out, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		}
		return out
	}
	panic("cannot decode " + typ.String())
}

func (h *tf) dynamic(typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	h.t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		h.t.Fatal(err)
	}
	return &dv
}

func (h *tf) undynamic(typ tftypes.Type, dv *tfprotov6.DynamicValue) tftypes.Value {
	h.t.Helper()
	if dv == nil {
		return tftypes.NewValue(typ, nil)
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// diagError is the error diagnostics of an answer, as one error.
type diagError []*tfprotov6.Diagnostic

func (d diagError) Error() string {
	var b strings.Builder
	for _, x := range d {
		fmt.Fprintf(&b, "\n  %s", x.Summary)
		if x.Attribute != nil {
			fmt.Fprintf(&b, " [%s]", pathString(x.Attribute))
		}
		if x.Detail != "" {
			fmt.Fprintf(&b, ": %s", strings.ReplaceAll(x.Detail, "\n", " "))
		}
	}
	return b.String()
}

// diagErrors returns the error diagnostics, or nil when there are none.
func diagErrors(diags []*tfprotov6.Diagnostic) error {
	var errs diagError
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			errs = append(errs, d)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// wantDiag fails t unless diags hold an error whose text contains every
// one of want, and returns that error's text.
func wantDiag(t *testing.T, diags []*tfprotov6.Diagnostic, want ...string) string {
	t.Helper()
	err := diagErrors(diags)
	if err == nil {
		t.Fatalf("want an error with %q, got none (%v)", want, diags)
	}
	for _, d := range err.(diagError) {
		text := diagError{d}.Error()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			return text
		}
	}
	t.Fatalf("want an error with %q, got:%v", want, err)
	return ""
}

// pathString writes an attribute path as name[...].
func pathString(p *tftypes.AttributePath) string {
	var b strings.Builder
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case tftypes.AttributeName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(s))
		case tftypes.ElementKeyString:
			fmt.Fprintf(&b, "[%q]", string(s))
		case tftypes.ElementKeyInt:
			fmt.Fprintf(&b, "[%d]", int64(s))
		default:
			b.WriteString("[…]")
		}
	}
	return b.String()
}

// fmtValue writes a decoded value for comparisons.
func fmtValue(v any) string { return fmt.Sprint(v) }
