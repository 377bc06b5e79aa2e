package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP trace receiver on 127.0.0.1: it keeps every
// span exported to it, with its resource's attributes.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []gotSpan
}

type gotSpan struct {
	resource map[string]string
	*tracepb.Span
}

func (r *otlpReceiver) add(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		res := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			res[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, gotSpan{res, s})
			}
		}
	}
}

func (r *otlpReceiver) all() []gotSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gotSpan(nil), r.spans...)
}

// wait returns the spans received once want holds of them, or fails the
// test after 20 seconds.
func (r *otlpReceiver) wait(t *testing.T, what string, want func([]gotSpan) bool) []gotSpan {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		spans := r.all()
		if want(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range spans {
				names = append(names, s.Name+" "+hex.EncodeToString(s.TraceId))
			}
			t.Fatalf("no %s among %d spans received:\n%s", what, len(spans), strings.Join(names, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveOTLPHTTP receives OTLP/HTTP protobuf at /v1/traces and returns the
// endpoint's base URL.
func serveOTLPHTTP(t *testing.T, r *otlpReceiver) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &msg)
		}
		if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("OTLP/HTTP export: %v, content type %q", err, req.Header.Get("Content-Type"))
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.add(&msg)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

type grpcTraces struct {
	coltracepb.UnimplementedTraceServiceServer
	r *otlpReceiver
}

func (g *grpcTraces) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.r.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// serveOTLPGRPC receives OTLP/gRPC (plaintext) and returns the endpoint
// as an http:// URL, which tells the exporter not to use TLS.
func serveOTLPGRPC(t *testing.T, r *otlpReceiver) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, &grpcTraces{r: r})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return "http://" + ln.Addr().String()
}

// traceparent is a W3C traceparent naming a new trace, and its trace and
// span IDs in hex.
func traceparent(seed byte) (header, traceID, spanID string) {
	tid, sid := make([]byte, 16), make([]byte, 8)
	for i := range tid {
		tid[i] = seed + byte(i)
	}
	for i := range sid {
		sid[i] = seed ^ byte(0x80+i)
	}
	traceID, spanID = hex.EncodeToString(tid), hex.EncodeToString(sid)
	return "00-" + traceID + "-" + spanID + "-01", traceID, spanID
}

func spanNamed(spans []gotSpan, traceID, name string) *gotSpan {
	for i, s := range spans {
		if hex.EncodeToString(s.TraceId) == traceID && s.Name == name {
			return &spans[i]
		}
	}
	return nil
}

// descends reports whether s descends from ancestor within the trace.
func descends(spans []gotSpan, s, ancestor *gotSpan) bool {
	byID := map[string]*gotSpan{}
	for i := range spans {
		byID[string(spans[i].SpanId)] = &spans[i]
	}
	for p := byID[string(s.ParentSpanId)]; p != nil; p = byID[string(p.ParentSpanId)] {
		if string(p.SpanId) == string(ancestor.SpanId) {
			return true
		}
	}
	return false
}

func attr(s *gotSpan, key string) *commonpb.AnyValue {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// TestTracesOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, a Tollgate
// process exports its spans to a receiver on 127.0.0.1, over OTLP/HTTP on
// SQLite and OTLP/gRPC on PostgreSQL. The spans continue the caller's
// traceparent: the HTTP span named by its route, the use case and the
// store transaction below it, and the token endpoint's group commit
// linked to the request it served. The resource names the service from
// OTEL_SERVICE_NAME; the JSON log line carries the trace ID; and no span
// attribute holds a secret, a token, a password or the raw path.
func TestTracesOverOTLP(t *testing.T) {
	for _, tc := range []struct{ store, protocol string }{{"sqlite", "http/protobuf"}, {"postgres", "grpc"}} {
		t.Run(tc.protocol, func(t *testing.T) {
			db := databases(t)[tc.store](t)
			r := &otlpReceiver{}
			endpoint := map[string]func(*testing.T, *otlpReceiver) string{"http/protobuf": serveOTLPHTTP, "grpc": serveOTLPGRPC}[tc.protocol](t, r)
			ts := startProcess(t, db, map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": tc.protocol,
				"OTEL_SERVICE_NAME": "tollgate-under-test", "OTEL_BSP_SCHEDULE_DELAY": "100",
				"TOLLGATE_LOG_FORMAT": "json", "TOLLGATE_KEY_FILE": newKeyFile(t)})
			admin := loggedIn(t, ts)

			create, createTrace, _ := traceparent(0x10)
			acct := admin.do("POST", "/api/v1/orgs/acme/service-accounts", map[string]any{"name": "traced", "role": "viewer", "token_ttl_seconds": 600},
				"traceparent", create).want(t, 201).JSON()
			id, secret := acct["id"].(string), acct["client_secret"].(string)
			// A path with IDs in it, and a query: neither may reach a span.
			read, readTrace, _ := traceparent(0x20)
			admin.do("GET", "/api/v1/orgs/acme/service-accounts/"+id+"?probe=raw-query", nil, "traceparent", read).want(t, 200)

			tokenTP, tokenTrace, callerSpan := traceparent(0x40)
			req, _ := http.NewRequest("POST", ts.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("traceparent", tokenTP)
			req.SetBasicAuth(id, secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tok map[string]any
			json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("token: %d %v", resp.StatusCode, tok)
			}
			access := tok["access_token"].(string)
			requestID := resp.Header.Get("X-Request-Id")

			system := map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}[tc.store]
			spans := r.wait(t, "token request, account creation and group commit spans", func(spans []gotSpan) bool {
				issue := spanNamed(spans, tokenTrace, "app.IssueToken")
				if issue == nil || spanNamed(spans, createTrace, system+".transaction") == nil ||
					spanNamed(spans, readTrace, "GET /api/v1/orgs/{org}/service-accounts/{id}") == nil {
					return false
				}
				for _, s := range spans {
					if s.Name == "app.commitMints" && len(s.Links) > 0 && string(s.Links[0].SpanId) == string(issue.SpanId) {
						return true
					}
				}
				return false
			})

			// The account's creation: route-named HTTP span, use case, transaction.
			httpCreate := spanNamed(spans, createTrace, "POST /api/v1/orgs/{org}/service-accounts")
			useCase := spanNamed(spans, createTrace, "app.CreateServiceAccount")
			tx := spanNamed(spans, createTrace, system+".transaction")
			if httpCreate == nil || useCase == nil || tx == nil {
				t.Fatalf("creation trace lacks its HTTP, use case or transaction span: %v %v %v", httpCreate != nil, useCase != nil, tx != nil)
			}
			if httpCreate.Kind != tracepb.Span_SPAN_KIND_SERVER || !descends(spans, useCase, httpCreate) || !descends(spans, tx, useCase) {
				t.Fatalf("creation spans are not nested HTTP (server) → use case → transaction")
			}
			if v := attr(tx, "db.system.name"); v.GetStringValue() != system {
				t.Fatalf("transaction span's db.system.name = %v", v)
			}
			if v := attr(httpCreate, "http.route"); v.GetStringValue() != "/api/v1/orgs/{org}/service-accounts" {
				t.Fatalf("http.route = %v", v)
			}
			if v := attr(httpCreate, "http.response.status_code"); v.GetIntValue() != 201 {
				t.Fatalf("http.response.status_code = %v", v)
			}

			// The token request continues the caller's trace.
			httpToken := spanNamed(spans, tokenTrace, "POST /oauth2/token")
			issue := spanNamed(spans, tokenTrace, "app.IssueToken")
			client := spanNamed(spans, tokenTrace, "authn.Client")
			if httpToken == nil || client == nil {
				t.Fatal("the token trace lacks its HTTP or authn.Client span")
			}
			if hex.EncodeToString(httpToken.ParentSpanId) != callerSpan {
				t.Fatalf("the HTTP span's parent is %x, not the traceparent's span %s", httpToken.ParentSpanId, callerSpan)
			}
			if !descends(spans, issue, httpToken) || !descends(spans, client, httpToken) {
				t.Fatal("app.IssueToken and authn.Client are not below the HTTP span")
			}
			if v := attr(httpToken, "tollgate.request_id"); v.GetStringValue() != requestID {
				t.Fatalf("request id attribute %v, response said %q", v, requestID)
			}
			var commit *gotSpan
			for i, s := range spans {
				if s.Name == "app.commitMints" && len(s.Links) > 0 && string(s.Links[0].SpanId) == string(issue.SpanId) {
					commit = &spans[i]
				}
			}
			var commitTx bool
			for i := range spans {
				if spans[i].Name == system+".transaction" && descends(spans, &spans[i], commit) {
					commitTx = true
				}
			}
			if !commitTx {
				t.Fatal("the group commit has no transaction span below it")
			}

			for _, s := range spans {
				if s.resource["service.name"] != "tollgate-under-test" || s.resource["service.version"] == "" {
					t.Fatalf("resource service.name %q version %q", s.resource["service.name"], s.resource["service.version"])
				}
				leaks := []string{secret, access, adminPassword, "/" + id, "/acme/", "raw-query"}
				for _, leak := range leaks {
					if strings.Contains(s.Name, leak) {
						t.Fatalf("span name %q holds a secret, token, password, raw path or query", s.Name)
					}
				}
				for _, kv := range s.Attributes {
					v := kv.GetValue().String()
					for _, leak := range leaks {
						if strings.Contains(v, leak) {
							t.Fatalf("span %s attribute %s holds a secret, token, password, raw path or query", s.Name, kv.Key)
						}
					}
				}
			}

			// The request's log line names the trace.
			var logged bool
			sc := bufio.NewScanner(strings.NewReader(ts.stderr.String()))
			for sc.Scan() {
				var line map[string]any
				if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != "http" || line["path"] != "/oauth2/token" {
					continue
				}
				if line["trace_id"] != tokenTrace || line["request_id"] != requestID || line["caller"] != "service_account:"+id {
					t.Fatalf("token request's log line: %v", line)
				}
				logged = true
			}
			if !logged {
				t.Fatalf("no log line of the token request:\n%s", ts.stderr)
			}
		})
	}
}
