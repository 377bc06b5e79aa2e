package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// profileDuring fetches a CPU profile of the server whose admin listener
// (with --pprof) is at admin, over the next d, into file. The returned
// function waits for it; a failure is reported on progress, not fatal.
func profileDuring(admin string, d time.Duration, file string, progress io.Writer) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := int(math.Ceil(d.Seconds()))
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, secs))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s", resp.Status)
		}
		if err == nil {
			var f *os.File
			if f, err = os.Create(file); err == nil {
				_, err = io.Copy(f, resp.Body)
				err = errors.Join(err, f.Close())
			}
		}
		if resp != nil {
			resp.Body.Close()
		}
		if err != nil {
			fmt.Fprintf(progress, "profile %s: %v\n", file, err)
		}
	}()
	return func() { <-done }
}

// slug makes a file name of a measurement's name.
func slug(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	return strings.Join(words, "-")
}
