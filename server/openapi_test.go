package server_test

import (
	"regexp"
	"testing"

	"github.com/tollgate/tollgate/server"
)

var (
	// operationIDRE is the shape generators turn into clean method names.
	operationIDRE = regexp.MustCompile(`^[a-z][A-Za-z]+$`)
	// ruleIDRE finds DESIGN.md's rule IDs (S1, A10…), which are internal.
	ruleIDRE = regexp.MustCompile(`\b[SCTALRKPOZ][0-9]{1,2}\b`)
)

// TestOpenAPIForGenerators: every operation has a unique camelCase
// operationId, one declared tag and named schemas for all its answers
// (lists, created resources, errors), every tag a description, the document a
// server, and nothing in the document (which /docs renders) names an
// internal rule ID.
func TestOpenAPIForGenerators(t *testing.T) {
	doc, err := server.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers entry")
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %q has no description", tag.Name)
		}
		tags[tag.Name] = true
	}
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if !operationIDRE.MatchString(op.OperationID) {
				t.Errorf("%s: operationId %q is not camelCase", where, op.OperationID)
			}
			if prev, dup := seen[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also %s's", where, op.OperationID, prev)
			}
			seen[op.OperationID] = where
			if len(op.Tags) != 1 || !tags[op.Tags[0]] {
				t.Errorf("%s: tags %v, want one declared tag", where, op.Tags)
			}
			for code, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for ct, media := range resp.Value.Content {
					if media.Schema != nil && media.Schema.Ref == "" {
						t.Errorf("%s: the %s %s answer's schema is inline, not a named schema", where, code, ct)
					}
				}
			}
		}
	}
	if len(seen) < 40 {
		t.Fatalf("only %d operations", len(seen))
	}
	served, err := server.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if ids := ruleIDRE.FindAllString(string(served), -1); len(ids) > 0 {
		t.Errorf("the document names internal rules %v", ids)
	}
}
