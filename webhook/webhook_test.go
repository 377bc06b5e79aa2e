package webhook_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/webhook"
)

// TestSignMatchesTheSpecification: the example of the Standard Webhooks
// specification, which its reference libraries (standardwebhooks on npm
// among them) sign to this value.
func TestSignMatchesTheSpecification(t *testing.T) {
	got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, %v", got, err)
	}
	if _, err := webhook.Sign("whsec_not base64!", "msg_x", time.Now(), nil); err == nil {
		t.Fatal("a secret that is not base64 signed")
	}
	if s := webhook.NewSecret(); !strings.HasPrefix(s, "whsec_") || s == webhook.NewSecret() {
		t.Fatalf("NewSecret: %q", s)
	}
}

// TestSender: a listed loopback origin is reached with the three headers;
// the same server is refused when not listed (SSRF); a redirect is a
// failure and is not followed.
func TestSender(t *testing.T) {
	var got http.Header
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		got = r.Header.Clone()
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	secret := webhook.NewSecret()
	msg := webhook.Message{ID: "msg_1", Timestamp: time.Unix(1700000000, 0), Payload: []byte(`{"type":"x"}`)}

	status, err := webhook.NewSender([]string{srv.URL}).Send(t.Context(), srv.URL+"/hook", secret, msg)
	want, _ := webhook.Sign(secret, msg.ID, msg.Timestamp, msg.Payload)
	if err != nil || status != 204 || got.Get("webhook-id") != "msg_1" || got.Get("webhook-timestamp") != "1700000000" || got.Get("webhook-signature") != want {
		t.Fatalf("send: %d %v %v", status, err, got)
	}
	_, err = webhook.NewSender(nil).Send(t.Context(), srv.URL+"/hook", secret, msg)
	var refused *webhook.RefusedError
	if !errors.As(err, &refused) || hits != 1 {
		t.Fatalf("an unlisted loopback address: %v (hits %d)", err, hits)
	}
	status, err = webhook.NewSender([]string{srv.URL}).Send(t.Context(), srv.URL+"/moved", secret, msg)
	if err == nil || status != 302 || hits != 2 || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("a redirect: %d %v (hits %d)", status, err, hits)
	}
}
