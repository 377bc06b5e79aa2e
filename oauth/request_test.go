package oauth_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/oauth"
)

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestParseBasic(t *testing.T) {
	for _, tc := range []struct {
		header, id, secret string
		ok                 bool
	}{
		{basic("sa_1", "tgs_x"), "sa_1", "tgs_x", true},
		{basic("a:b", "c d+e%"), "a:b", "c d+e%", true}, // §2.3.1: both form-urlencoded
		{"basic " + base64.StdEncoding.EncodeToString([]byte("id:pw")), "id", "pw", true},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("id:pw:more")), "id", "pw:more", true},
		{"Bearer abc", "", "", false},
		{"Basic !!!", "", "", false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon")), "", "", false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte(":pw")), "", "", false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:pw")), "", "", false},
		{"Basic", "", "", false},
	} {
		id, secret, ok := oauth.ParseBasic(tc.header)
		if id != tc.id || secret != tc.secret || ok != tc.ok {
			t.Errorf("ParseBasic(%q) = %q, %q, %v; want %q, %q, %v", tc.header, id, secret, ok, tc.id, tc.secret, tc.ok)
		}
	}
}

func TestParseTokenRequest(t *testing.T) {
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		auth   string
		form   url.Values
		code   oauth.Code
		method string
	}{
		{"post", "", form("grant_type", "client_credentials", "client_id", "sa_1", "client_secret", "s"), "", oauth.AuthPost},
		{"basic", basic("sa_1", "s"), form("grant_type", "client_credentials"), "", oauth.AuthBasic},
		{"basic with matching client_id", basic("sa_1", "s"), form("grant_type", "client_credentials", "client_id", "sa_1"), "", oauth.AuthBasic},
		{"basic with other client_id", basic("sa_1", "s"), form("grant_type", "client_credentials", "client_id", "sa_2"), oauth.CodeInvalidRequest, ""},
		{"both methods", basic("sa_1", "s"), form("grant_type", "client_credentials", "client_secret", "s"), oauth.CodeInvalidRequest, ""},
		{"no grant", "", form("client_id", "sa_1", "client_secret", "s"), oauth.CodeInvalidRequest, ""},
		{"other grant", "", form("grant_type", "authorization_code", "client_id", "sa_1", "client_secret", "s"), oauth.CodeUnsupportedGrantType, ""},
		{"repeated scope", "", form("grant_type", "client_credentials", "scope", "a", "scope", "b", "client_id", "sa_1", "client_secret", "s"), oauth.CodeInvalidRequest, ""},
		{"no credentials", "", form("grant_type", "client_credentials"), oauth.CodeInvalidClient, ""},
		{"secret only", "", form("grant_type", "client_credentials", "client_secret", "s"), oauth.CodeInvalidClient, ""},
		{"broken basic", "Basic ###", form("grant_type", "client_credentials"), oauth.CodeInvalidClient, ""},
		{"assertion without its type", "", form("grant_type", "client_credentials", "client_id", "sa_1", "client_assertion", "x.y.z"), oauth.CodeInvalidRequest, ""},
		{"assertion of another type", "", form("grant_type", "client_credentials", "client_assertion_type", "urn:x", "client_assertion", "x.y.z"), oauth.CodeInvalidClient, ""},
		{"assertion and secret", "", form("grant_type", "client_credentials", "client_secret", "s", "client_assertion_type", oauth.AssertionTypeJWT, "client_assertion", "x.y.z"), oauth.CodeInvalidRequest, ""},
		{"assertion not a JWT", "", form("grant_type", "client_credentials", "client_assertion_type", oauth.AssertionTypeJWT, "client_assertion", "x.y"), oauth.CodeInvalidClient, ""},
		{"huge parameter", "", form("grant_type", "client_credentials", "scope", strings.Repeat("x", 5000), "client_id", "sa_1", "client_secret", "s"), oauth.CodeInvalidRequest, ""},
	} {
		auth, err := oauth.ParseClientAuth(tc.auth, tc.form)
		if err == nil {
			_, err = oauth.ParseTokenRequest(tc.form)
		}
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != "" && oauth.CodeOf(err) != tc.code:
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.code)
		case tc.code == "" && (auth.Method != tc.method || auth.ID != "sa_1" || auth.Secret != "s"):
			t.Errorf("%s: %+v", tc.name, auth)
		}
		if want := tollgate.EInvalid; tc.code == oauth.CodeInvalidClient {
			if tollgate.ErrorCode(err) != tollgate.EUnauthenticated {
				t.Errorf("%s: invalid_client with code %s", tc.name, tollgate.ErrorCode(err))
			}
		} else if tc.code != "" && tollgate.ErrorCode(err) != want {
			t.Errorf("%s: %s with code %s", tc.name, tc.code, tollgate.ErrorCode(err))
		}
	}
}

// FuzzParseTokenRequest feeds arbitrary bodies and Authorization headers to
// the parsers: they must never panic, and every error must be coded with a
// known OAuth code and a description.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("grant_type=client_credentials&client_id=sa_1&client_secret=tgs_x", "")
	f.Add("grant_type=client_credentials", basic("sa_1", "tgs_x"))
	f.Add("grant_type=client_credentials&grant_type=x&scope=%zz", "Basic Og==")
	f.Add("client_secret=a&client_secret=b", "Basic "+strings.Repeat("A", 100))
	f.Add("%", "basic    ")
	f.Add("token=a&token=b", "")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // the HTTP layer answers invalid_request before parsing
		}
		for _, err := range []error{
			func() error { _, err := oauth.ParseClientAuth(authorization, form); return err }(),
			func() error { _, err := oauth.ParseTokenRequest(form); return err }(),
			func() error { _, err := oauth.ParseTokenParam(form); return err }(),
		} {
			if err == nil {
				continue
			}
			switch code := oauth.CodeOf(err); code {
			case oauth.CodeInvalidRequest, oauth.CodeUnsupportedGrantType, oauth.CodeInvalidGrant, oauth.CodeInvalidTarget:
				if tollgate.ErrorCode(err) != tollgate.EInvalid {
					t.Fatalf("%s coded %s", code, tollgate.ErrorCode(err))
				}
			case oauth.CodeInvalidClient:
				if tollgate.ErrorCode(err) != tollgate.EUnauthenticated {
					t.Fatalf("invalid_client coded %s", tollgate.ErrorCode(err))
				}
			default:
				t.Fatalf("unexpected error code %q", code)
			}
			if tollgate.ErrorMessage(err) == "" {
				t.Fatal("an error without a description")
			}
		}
	})
}

// FuzzParseBasic: never a panic; what parses round-trips through the
// encoding RFC 6749 §2.3.1 prescribes.
func FuzzParseBasic(f *testing.F) {
	f.Add(basic("sa_1", "tgs_x"))
	f.Add(basic("a:b", "c d"))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("%41:%")))
	f.Add("Basic")
	f.Fuzz(func(t *testing.T, header string) {
		id, secret, ok := oauth.ParseBasic(header)
		if !ok {
			if id != "" || secret != "" {
				t.Fatal("values returned with ok=false")
			}
			return
		}
		if id == "" {
			t.Fatal("ok with an empty client ID")
		}
		id2, secret2, ok2 := oauth.ParseBasic(basic(id, secret))
		if !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q/%q gave %q/%q", id, secret, id2, secret2)
		}
	})
}

// FuzzValidCredential: never a panic, and nothing validates unless it has
// the exact shape NewCredential makes, for each of the three prefixes
// (client secrets, private and public API tokens).
func FuzzValidCredential(f *testing.F) {
	for _, p := range []string{credential.PrefixClientSecret, credential.PrefixPrivateToken, credential.PrefixPublicToken} {
		f.Add(credential.NewCredential(p))
		f.Add(p + strings.Repeat("0", 49))
	}
	f.Add("tgs_")
	f.Add("tgp_abc")
	f.Fuzz(func(t *testing.T, s string) {
		prefix := ""
		for _, p := range []string{credential.PrefixClientSecret, credential.PrefixPrivateToken, credential.PrefixPublicToken} {
			if credential.ValidCredential(p, s) {
				if prefix != "" {
					t.Fatalf("%q validates under two prefixes", s)
				}
				prefix = p
			}
		}
		if prefix == "" {
			return
		}
		if len(s) != 53 || !strings.HasPrefix(s, prefix) {
			t.Fatalf("%q validated", s)
		}
		// A valid secret stays valid; changing its last character breaks it.
		b := []byte(s)
		if b[len(b)-1] == '0' {
			b[len(b)-1] = '1'
		} else {
			b[len(b)-1] = '0'
		}
		if credential.ValidCredential(prefix, string(b)) {
			t.Fatalf("%q and %q both validate", s, b)
		}
	})
}
