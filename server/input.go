package server

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/tollgate/tollgate"
)

// notPlain is the refusal of input that is not plain text (NUL characters
// or invalid UTF-8), which PostgreSQL cannot store and SQLite would: the
// edge refuses it for both, naming where it was.
func notPlain(where string) error {
	return &tollgate.Error{Code: tollgate.EMalformed, Field: where,
		Message: where + " must be valid UTF-8 without NUL characters"}
}

// plainRequest checks the decoded path and every query parameter.
func plainRequest(r *http.Request) error {
	if !tollgate.PlainText(r.URL.Path) {
		return notPlain("path")
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	return plainValues(r.URL.Query())
}

// plainValues checks the names and values of a query or form.
func plainValues(vs url.Values) error {
	for k, list := range vs {
		if !tollgate.PlainText(k) {
			return notPlain("parameter name")
		}
		for _, v := range list {
			if !tollgate.PlainText(v) {
				return notPlain(k)
			}
		}
	}
	return nil
}

// plainJSON checks every string a JSON body was decoded into (v, a pointer
// to a request struct), naming the first field that holds NUL characters
// (encoding/json replaces invalid UTF-8 with U+FFFD already).
func plainJSON(v any) error {
	if f, ok := findNUL(reflect.ValueOf(v), ""); ok {
		return notPlain(f)
	}
	return nil
}

func findNUL(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return findNUL(v.Elem(), path)
		}
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return path, true
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, ok := findNUL(v.Index(i), path); ok {
				return f, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if f, ok := findNUL(it.Key(), path); ok {
				return f, true
			}
			if f, ok := findNUL(it.Value(), join(path, it.Key().String())); ok {
				return f, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() && !sf.Anonymous { // encoding/json fills embedded structs' fields too
				continue
			}
			name := path
			if !sf.Anonymous { // embedded fields are the parent's
				tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
				if tag == "" {
					tag = sf.Name
				}
				name = join(path, tag)
			}
			if f, ok := findNUL(v.Field(i), name); ok {
				return f, true
			}
		}
	}
	return "", false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// plainInput refuses, before any handler runs, a request whose path or
// query is not plain text, in the format of the route's family.
// The refusal is observed under the route the request was sent to
// (route), as if it had been served.
func (s *Server) plainInput(route func(*http.Request) string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := plainRequest(r)
		if err != nil {
			if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
				info.route = route(r)
			}
		}
		switch {
		case err == nil:
			h.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/"):
			s.writeError(w, r, err)
		case strings.HasPrefix(r.URL.Path, "/oauth2/"):
			s.writeOAuthError(w, r, oauthEndpointOf(r.URL.Path), err)
		case r.URL.Path == "/check":
			s.writeCheckError(w, r, err)
		default:
			s.consoleError(w, r, &view{}, err)
		}
	})
}

// oauthEndpointOf names the OAuth endpoint at path for the metrics: one
// of a fixed set (never the path itself), "input" for any other.
func oauthEndpointOf(path string) string {
	switch path {
	case "/oauth2/token":
		return "token"
	case "/oauth2/introspect":
		return "introspect"
	case "/oauth2/revoke":
		return "revoke"
	}
	return "input"
}
