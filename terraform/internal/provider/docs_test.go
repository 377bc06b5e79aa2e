package provider_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestDocs: the registry documentation (docs/) has a page for the
// provider, each resource and each data source, and each page's Schema
// section lists every attribute, under Required, Optional or Read-Only as
// the schema has it, marked Sensitive when it is; each resource's page
// says how to import it.
func TestDocs(t *testing.T) {
	h := newTF(t)
	docs := filepath.Join("..", "..", "docs")
	check := func(t *testing.T, file string, s *tfprotov6.Schema) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(docs, file))
		if err != nil {
			t.Fatal(err)
		}
		got := schemaSection(string(b))
		for _, a := range s.Block.Attributes {
			section := "Read-Only"
			switch {
			case a.Required:
				section = "Required"
			case a.Optional:
				section = "Optional"
			}
			line, ok := got[a.Name]
			if !ok {
				t.Errorf("%s: %s is not documented", file, a.Name)
				continue
			}
			delete(got, a.Name)
			if line.section != section {
				t.Errorf("%s: %s is under %s, want %s", file, a.Name, line.section, section)
			}
			if strings.Contains(line.kind, "Sensitive") != a.Sensitive {
				t.Errorf("%s: %s is documented as (%s), sensitive %v", file, a.Name, line.kind, a.Sensitive)
			}
		}
		for name := range got {
			t.Errorf("%s documents %s, which the schema does not have", file, name)
		}
		return string(b)
	}
	check(t, "index.md", h.schema.Provider)
	var pages []string
	for typ, s := range h.schema.ResourceSchemas {
		file := filepath.Join("resources", strings.TrimPrefix(typ, "tollgate_")+".md")
		pages = append(pages, file)
		if page := check(t, file, s); !strings.Contains(page, "## Import") || !strings.Contains(page, "terraform import "+typ+".") {
			t.Errorf("%s does not say how to import", file)
		}
	}
	for typ, s := range h.schema.DataSourceSchemas {
		file := filepath.Join("data-sources", strings.TrimPrefix(typ, "tollgate_")+".md")
		pages = append(pages, file)
		check(t, file, s)
	}
	for _, dir := range []string{"resources", "data-sources"} {
		entries, err := os.ReadDir(filepath.Join(docs, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !slices.Contains(pages, filepath.Join(dir, e.Name())) {
				t.Errorf("docs/%s/%s documents nothing the provider has", dir, e.Name())
			}
		}
	}
}

// documented is an attribute's line in a page's Schema section.
type documented struct {
	section string // Required, Optional or Read-Only
	kind    string // what the parentheses say: "String", "String, Sensitive"…
}

// schemaSection reads the "- `name` (Kind) …" lines under the headings
// of a page's "## Schema" section.
func schemaSection(page string) map[string]documented {
	out := map[string]documented{}
	in, section := false, ""
	for line := range strings.Lines(page) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Schema"
		case in && strings.HasPrefix(line, "### "):
			section = strings.TrimPrefix(line, "### ")
		case in && strings.HasPrefix(line, "- `"):
			name, rest, _ := strings.Cut(strings.TrimPrefix(line, "- `"), "`")
			kind := ""
			if r, ok := strings.CutPrefix(rest, " ("); ok {
				kind, _, _ = strings.Cut(r, ")")
			}
			out[name] = documented{section: section, kind: kind}
		}
	}
	return out
}
