package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tollgate/tollgate"
	api "github.com/tollgate/tollgate/client"
)

// runLogin: tollgate login --server URL. It signs a person in with the
// device authorization grant (RFC 8628): it shows a code and a link, the
// person approves the code on the console's /device page, and the CLI,
// polling meanwhile, saves the credential of its new CLI session (0600,
// under the user's config directory) for the admin commands to use.
func runLogin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	base, path, err := loginFlags("login", "Signs you in at the command line: approve the code it shows on the console's /device page.\nThe credential is saved under your config directory and used by the admin commands.", args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg := &oauth2.Config{ClientID: tollgate.DeviceClientID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: base + "/oauth2/device_authorization", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, cliHTTPClient())
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return loginError(base, err)
	}
	link := da.VerificationURIComplete
	if link == "" {
		link = da.VerificationURI
	}
	fmt.Fprintf(stderr, "To sign in to %s, open\n\n  %s\n\nand check that the page shows the code %s, then approve it.\nWaiting for approval…\n", base, link, da.UserCode)
	tok, err := cfg.DeviceAccessToken(ctx, da) // polls until approved, denied or expired (da.Expiry)
	if err != nil {
		return loginError(base, err)
	}
	email := ""
	if u, ok := tok.Extra("user").(map[string]any); ok {
		email, _ = u["email"].(string)
	}
	sessionID, _ := tok.Extra("session_id").(string)
	if err := saveCredential(path, base, savedCredential{Token: tok.AccessToken, ExpiresAt: tok.Expiry.UTC(), SessionID: sessionID, Email: email}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Logged in to %s as %s\n", base, email)
	return nil
}

// loginError says in one line why the device grant failed.
func loginError(server string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "access_denied":
			return errors.New("the login was denied in the console")
		case "expired_token":
			return errors.New("the code expired before it was approved: run tollgate login again")
		case "":
			return fmt.Errorf("%s answered %s", server, re.Response.Status)
		}
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s (%s)", server, re.ErrorDescription, re.ErrorCode)
		}
		return fmt.Errorf("%s: %s", server, re.ErrorCode)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("the code expired before it was approved: run tollgate login again")
	}
	return err
}

// runLogout: tollgate logout --server URL. It revokes the CLI session of
// the saved credential on the server and forgets it here; a session the
// server has already ended is forgotten all the same.
func runLogout(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	base, path, err := loginFlags("logout", "Revokes the session \"tollgate login\" saved for the server, and forgets it.", args, getenv, stderr)
	if err != nil {
		return err
	}
	saved, err := readCredentials(path)
	if err != nil {
		return err
	}
	c, ok := saved[base]
	if !ok {
		return fmt.Errorf("not logged in to %s", base)
	}
	if time.Now().Before(c.ExpiresAt) {
		cl, err := api.New(base, c.Token, api.WithHTTPClient(cliHTTPClient()))
		if err != nil {
			return err
		}
		if err := api.NoContent(cl.SignOut(ctx)); err != nil && !api.HasCode(err, api.ProblemCodeUnauthenticated) {
			return err
		}
	}
	delete(saved, base)
	if err := writeCredentials(path, saved); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Logged out of %s\n", base)
	return nil
}

// loginFlags parses the flags of login and logout (--server alone) and
// returns the server's URL and the credentials file's path.
func loginFlags(name, about string, args []string, getenv func(string) string, stderr io.Writer) (server, path string, err error) {
	fs := newFlags(name, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tollgate %s --server URL\n\n%s\n", name, about)
		fs.PrintDefaults()
	}
	raw := fs.String("server", getenv("TOLLGATE_SERVER"), "the Tollgate server's URL (env TOLLGATE_SERVER)")
	if err := parseNoArgs(fs, args); err != nil {
		return "", "", err
	}
	if server, err = serverURL(*raw); err != nil {
		return "", "", err
	}
	path, err = credentialsPath(getenv)
	return server, path, err
}

// parseNoArgs parses the flags of a command that takes no arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{msg: fmt.Sprintf("%s takes no arguments, not %q", fs.Name(), pos[0])}
	}
	return nil
}

// cliHTTPClient is the HTTP client of the CLI's calls: bounded, and
// named in User-Agent (the /device page shows it to the approving person).
func cliHTTPClient() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: userAgent{http.DefaultTransport}}
}

type userAgent struct{ next http.RoundTripper }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", "tollgate-cli/"+versionString())
	return u.next.RoundTrip(r)
}

// serverURL checks a --server value and returns it without a trailing
// slash: the key of its saved credential.
func serverURL(raw string) (string, error) {
	if raw == "" {
		return "", &usageError{msg: "--server is required (env TOLLGATE_SERVER), e.g. --server https://tollgate.example.com"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", &usageError{msg: fmt.Sprintf("--server must be an http or https URL such as https://tollgate.example.com, not %q", raw)}
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// readCredentials reads the saved credentials, by server; none when the
// file does not exist.
func readCredentials(path string) (map[string]savedCredential, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]savedCredential{}, nil
	} else if err != nil {
		return nil, err
	}
	saved := map[string]savedCredential{}
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("%s is not a credentials file: %v", path, err)
	}
	return saved, nil
}

// saveCredential adds or replaces server's credential in the file.
func saveCredential(path, server string, c savedCredential) error {
	saved, err := readCredentials(path)
	if err != nil {
		return err
	}
	saved[server] = c
	return writeCredentials(path, saved)
}

// writeCredentials replaces the credentials file atomically: its
// directory is made 0700 if it is missing, and the file is written 0600
// to a temporary name beside it, then renamed, so that a reader never
// sees half a file and no other user can read it at any moment.
func writeCredentials(path string, saved map[string]savedCredential) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".credentials-*.json") // 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
