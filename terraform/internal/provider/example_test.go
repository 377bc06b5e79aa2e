package provider_test

import (
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// TestExample runs examples/main.tf, the CI job of the docs, as
// "terraform apply" would: its resources in order, each attribute
// evaluated against the variables and the resources before it. The
// account's secret is exchanged at the token endpoint and the API token
// is accepted at /check. Then a new var.secret_generation rotates the
// secret and changes nothing else.
func TestExample(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ex := loadExample(t, filepath.Join("..", "..", "examples", "main.tf"))
		providerCfg := ex.eval(t, ex.provider, nil)
		providerCfg["server"] = s.url
		h := configured(t, providerCfg, providerSession(t, s))

		states := map[string]*res{}
		for _, r := range ex.resources {
			states[r.addr] = h.create(r.typ, ex.eval(t, r.body, states))
		}
		out := func(name string) string {
			v, ok := ex.eval(t, ex.outputs, states)[name].(string)
			if !ok || v == "" {
				t.Fatalf("output %s is empty", name)
			}
			return v
		}
		tok := s.exchange(t, out("client_id"), out("client_secret"))
		s.wantCheck(t, tok.AccessToken, 200, out("client_id"))
		s.wantCheck(t, out("api_token"), 200, out("client_id"))
		if out("token_endpoint") == "" {
			t.Fatal("no token endpoint")
		}

		// Rotate: a new generation replaces the secret resource alone.
		oldSecret := out("client_secret")
		ex.vars["secret_generation"] = cty.StringVal("2")
		for _, r := range ex.resources {
			next, replaced := h.apply(states[r.addr], ex.eval(t, r.body, states))
			if want := r.typ == "tollgate_service_account_secret"; (len(replaced) > 0) != want {
				t.Fatalf("%s: replaced %v", r.addr, replaced)
			}
			states[r.addr] = next
		}
		if out("client_secret") == oldSecret {
			t.Fatal("the secret did not rotate")
		}
		s.exchange(t, out("client_id"), out("client_secret"))
		s.exchange(t, out("client_id"), oldSecret) // within its grace period
		s.wantCheck(t, out("api_token"), 200, out("client_id"))
	})
}

// example is a parsed configuration: variables with their defaults, the
// provider block, resources in file order, outputs.
type example struct {
	vars      map[string]cty.Value
	provider  hcl.Attributes
	resources []exampleResource
	outputs   hcl.Attributes // output name → its value expression
}

type exampleResource struct {
	typ, addr string
	body      hcl.Attributes
}

func loadExample(t *testing.T, file string) *example {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCLFile(file)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "terraform"}, {Type: "variable", LabelNames: []string{"name"}}, {Type: "provider", LabelNames: []string{"name"}},
		{Type: "resource", LabelNames: []string{"type", "name"}}, {Type: "output", LabelNames: []string{"name"}},
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ex := &example{vars: map[string]cty.Value{}, outputs: hcl.Attributes{}}
	attrs := func(b *hcl.Block) hcl.Attributes {
		a, diags := b.Body.JustAttributes()
		if diags.HasErrors() {
			t.Fatalf("%s: %v", b.DefRange, diags)
		}
		return a
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			def, ok := attrs(b)["default"]
			if !ok {
				t.Fatalf("variable %s has no default", b.Labels[0])
			}
			v, diags := def.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			ex.vars[b.Labels[0]] = v
		case "provider":
			if b.Labels[0] != "tollgate" {
				t.Fatalf("provider %s", b.Labels[0])
			}
			ex.provider = attrs(b)
		case "resource":
			ex.resources = append(ex.resources, exampleResource{typ: b.Labels[0], addr: b.Labels[0] + "." + b.Labels[1], body: attrs(b)})
		case "output":
			a := attrs(b)
			ex.outputs[b.Labels[0]] = a["value"]
		}
	}
	return ex
}

// eval evaluates attributes against the variables and the states of
// the resources applied so far.
func (ex *example) eval(t *testing.T, attrs hcl.Attributes, states map[string]*res) cfg {
	t.Helper()
	byType := map[string]map[string]cty.Value{}
	for addr, r := range states {
		typ, name, _ := strings.Cut(addr, ".")
		if byType[typ] == nil {
			byType[typ] = map[string]cty.Value{}
		}
		byType[typ][name] = toCty(r.attrs())
	}
	vars := map[string]cty.Value{"var": cty.ObjectVal(ex.vars)}
	for typ, m := range byType {
		vars[typ] = cty.ObjectVal(m)
	}
	ctx := &hcl.EvalContext{Variables: vars}
	out := cfg{}
	for name, a := range attrs {
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", a.Range, diags)
		}
		out[name] = fromCty(t, v)
	}
	return out
}

// toCty turns a decoded state into a cty object.
func toCty(v any) cty.Value {
	switch v := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case string:
		return cty.StringVal(v)
	case int64:
		return cty.NumberIntVal(v)
	case bool:
		return cty.BoolVal(v)
	case []any:
		if len(v) == 0 {
			return cty.EmptyTupleVal
		}
		var l []cty.Value
		for _, e := range v {
			l = append(l, toCty(e))
		}
		return cty.TupleVal(l)
	case map[string]any:
		m := map[string]cty.Value{}
		for k, e := range v {
			m[k] = toCty(e)
		}
		return cty.ObjectVal(m)
	}
	panic(fmt.Sprintf("toCty %T", v))
}

// fromCty turns an evaluated attribute into a configuration value.
func fromCty(t *testing.T, v cty.Value) any {
	t.Helper()
	switch ty := v.Type(); {
	case v.IsNull():
		return nil
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Number:
		i, _ := v.AsBigFloat().Int(new(big.Int))
		return int(i.Int64())
	case ty == cty.Bool:
		return v.True()
	case ty.IsObjectType() || ty.IsMapType():
		m := map[string]string{}
		for k, e := range v.AsValueMap() {
			m[k] = e.AsString()
		}
		return m
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		var l []string
		for _, e := range v.AsValueSlice() {
			l = append(l, e.AsString())
		}
		slices.Sort(l)
		return l
	}
	t.Fatalf("cannot configure a %s", v.Type().FriendlyName())
	return nil
}
