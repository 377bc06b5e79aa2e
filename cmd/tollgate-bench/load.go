package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// request is one request a worker sends.
type request struct {
	method, url, body, contentType string
	user, pass                     string // HTTP Basic, when user is set
	bearer                         string // Authorization: Bearer, when set
	cookie                         string // Cookie, when set
	status                         int    // the answer expected; 0 is 200
	// seen, when set, is given the body of each 200 answer (the
	// replicas command collects the tokens handed out).
	seen func(body []byte)
}

// scenario is a named load: req(i) is what worker i sends, built once per
// worker, or before each request when each is set (a request that must
// differ every time, like a client assertion with its single-use jti).
type scenario struct {
	name string
	req  func(worker int) request
	each bool
}

// result is one measurement.
type result struct {
	name     string
	conns    int
	rps      float64
	p50, p99 time.Duration
	errors   int
	firstErr string
}

func (r result) print(w io.Writer, ceiling float64) {
	ratio := "-"
	if ceiling > 0 {
		ratio = fmt.Sprintf("%.0f%%", 100*r.rps/ceiling)
	}
	fmt.Fprintf(w, "%-34s %6d %10.0f %9s %9s %8d %7s\n", r.name, r.conns, r.rps, ms(r.p50), ms(r.p99), r.errors, ratio)
	if r.firstErr != "" {
		fmt.Fprintf(w, "    first error: %s\n", r.firstErr)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// measure runs conns workers, each sending requests back to back over its
// own keep-alive connection, first for the warm-up, then for the measured
// duration, and reports throughput, latency percentiles and errors
// (anything but a 200).
func measure(ctx context.Context, name string, conns int, cfg config, req func(int) request, each bool) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	load(ctx, client, conns, cfg.warmup, req, each)
	lat, errs, firstErr, elapsed := load(ctx, client, conns, cfg.duration, req, each)
	res := result{name: name, conns: conns, errors: errs, firstErr: firstErr}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.rps = float64(len(lat)) / elapsed.Seconds()
		res.p50 = lat[len(lat)*50/100]
		res.p99 = lat[len(lat)*99/100]
	}
	return res
}

func load(ctx context.Context, client *http.Client, conns int, d time.Duration, req func(int) request, each bool) ([]time.Duration, int, string, time.Duration) {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	errs, firstErr := 0, ""
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			r := req(i)
			var mine []time.Duration
			myErrs, myFirst := 0, ""
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if each {
					r = req(i)
				}
				hr, _ := http.NewRequestWithContext(ctx, r.method, r.url, strings.NewReader(r.body))
				if r.contentType != "" {
					hr.Header.Set("Content-Type", r.contentType)
				}
				if r.user != "" {
					hr.SetBasicAuth(r.user, r.pass)
				}
				if r.bearer != "" {
					hr.Header.Set("Authorization", "Bearer "+r.bearer)
				}
				if r.cookie != "" {
					hr.Header.Set("Cookie", r.cookie)
				}
				t0 := time.Now()
				resp, err := client.Do(hr)
				if err != nil {
					myErrs++
					if myFirst == "" {
						myFirst = err.Error()
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := cmp.Or(r.status, http.StatusOK); resp.StatusCode != want {
					myErrs++
					if myFirst == "" {
						myFirst = fmt.Sprintf("%d %.200s", resp.StatusCode, body)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
				if r.seen != nil {
					r.seen(body)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			errs += myErrs
			if firstErr == "" {
				firstErr = myFirst
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, errs, firstErr, time.Since(start)
}
