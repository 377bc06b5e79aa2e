package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate"
)

// consolePageSize is how many rows a console list shows at a time: the
// API's default page, so that a page's HTML stays small whatever the
// org's size.
const consolePageSize = tollgate.DefaultPageLimit

// listNav is what a console list shows around its rows: the search box
// (a GET form) and the links to the next and the first page. The links
// carry the list's filters, its search and the API's opaque cursor, never
// an offset.
type listNav struct {
	// Action is the list's path, where the search goes; Label labels the
	// search box and Help says what it matches.
	Action, Label, Help string
	Q                   string
	// Keep are the filters the search form carries along (hidden).
	Keep []hiddenField
	// NextURL is the next page ("" on the last), FirstURL the first ("" on
	// the first), ClearURL the list without its search.
	NextURL, FirstURL, ClearURL string
}

type hiddenField struct{ Name, Value string }

// listRequest reads a console list's search and page from r's query: q
// (trimmed) and cursor, with pages of consolePageSize.
func listRequest(r *http.Request) (string, tollgate.Page) {
	q := r.URL.Query()
	return strings.TrimSpace(q.Get("q")), tollgate.Page{Limit: consolePageSize, Cursor: q.Get("cursor")}
}

// searchHelp says what a search by name, or by name or email, matches.
const (
	searchHelpName  = "Matches the start of the name, in either case of A–Z; results come in name order."
	searchHelpEmail = "Matches the start of the name or the email, in either case of A–Z; results come in name order."
)

// newListNav makes the navigation of the list at path, whose page r asked
// for and whose next page starts at next (the store's cursor, "" after
// the last). keep names the query parameters, the list's filters, that
// the links and the search keep.
func newListNav(r *http.Request, path, label, help, next string, keep ...string) listNav {
	q := r.URL.Query()
	search, _ := listRequest(r)
	nav := listNav{Action: path, Label: label, Help: help, Q: search}
	filters := url.Values{}
	for _, k := range keep {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
			nav.Keep = append(nav.Keep, hiddenField{k, v})
		}
	}
	link := func(search, cursor string) string {
		v := url.Values{}
		for k, vals := range filters {
			v[k] = vals
		}
		if search != "" {
			v.Set("q", search)
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if enc := v.Encode(); enc != "" {
			return path + "?" + enc
		}
		return path
	}
	if next != "" {
		nav.NextURL = link(search, next)
	}
	if q.Get("cursor") != "" {
		nav.FirstURL = link(search, "")
	}
	if search != "" {
		nav.ClearURL = link("", "")
	}
	return nav
}
