package main

import (
	"errors"
	"path/filepath"
	"time"
)

// savedCredential is what "tollgate login" keeps for one server: the
// tgc_ credential of a CLI session, when it expires, and whose it is.
type savedCredential struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	SessionID string    `json:"session_id,omitempty"`
	Email     string    `json:"email,omitempty"`
}

// credentialsPath is the file "tollgate login" saves credentials in:
// tollgate/credentials.json under the user's config directory
// ($XDG_CONFIG_HOME, else $HOME/.config, as os.UserConfigDir on Linux;
// getenv stands in for the environment so that tests can move it).
func credentialsPath(getenv func(string) string) (string, error) {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set, so there is no config directory for credentials")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tollgate", "credentials.json"), nil
}

// storedToken returns the credential "tollgate login" saved for server,
// or "" when there is none or it has expired.
func storedToken(getenv func(string) string, server string) (string, error) {
	path, err := credentialsPath(getenv)
	if err != nil {
		return "", nil
	}
	saved, err := readCredentials(path)
	if err != nil {
		return "", err
	}
	c, ok := saved[server]
	if !ok || !time.Now().Before(c.ExpiresAt) {
		return "", nil
	}
	return c.Token, nil
}
