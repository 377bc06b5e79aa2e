package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/tollgate/tollgate"
)

// Header values every request of a hot path sets, shared rather than
// allocated for each (Header.Set makes a one-string slice a call). They
// are assigned under canonical names and never written through: a later
// Set replaces the slice, and an Add appends to a copy (their capacity is
// their length).
var (
	noStore  = []string{"no-store"}
	noCache  = []string{"no-cache"}
	jsonType = []string{"application/json"}
)

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, "application/json", status, v)
}

// jsonBuffers are the buffers responses are encoded in.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeJSONType(w http.ResponseWriter, contentType string, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	// Encode writes what json.Marshal does, and a newline.
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		// Only our own response types reach here; they always marshal.
		panic(fmt.Sprintf("server: marshal response: %v", err))
	}
	if contentType == "application/json" {
		w.Header()["Content-Type"] = jsonType
	} else {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	if buf.Cap() <= 64<<10 { // a large answer's buffer is not kept
		jsonBuffers.Put(buf)
	}
}

// decode reads one JSON object from the body into v, strictly: the body must
// be JSON (by Content-Type, when one is sent), within the size limit, with
// no unknown fields, values of the right types, and nothing after the object.
// Each failure is EMalformed, ETooLarge or EUnsupportedMedia, naming the
// field when there is one.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &tollgate.Error{Code: tollgate.EUnsupportedMedia, Message: "the body must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return malformed("", "the body must hold a single JSON object")
		}
		return plainJSON(v)
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tollgate.Errorf(tollgate.ETooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return malformed("", "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("", "the body is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return malformed("", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return malformed("", "the body must be a JSON object")
		}
		return malformed(typ.Field, fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json reports unknown fields only in its message.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return malformed(name, fmt.Sprintf("unknown field %q", name))
	}
	return malformed("", "the body is not valid JSON for this endpoint")
}

// malformed is the error of a body that cannot be read, naming field.
func malformed(field, msg string) error {
	return &tollgate.Error{Code: tollgate.EMalformed, Field: field, Message: msg}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return "another type"
}
