package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// savedCredential is what "tollgate login" keeps for one server.
type savedCredential struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
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
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	var saved map[string]savedCredential
	if err := json.Unmarshal(b, &saved); err != nil {
		return "", fmt.Errorf("%s is not a credentials file: %v", path, err)
	}
	c, ok := saved[server]
	if !ok || !time.Now().Before(c.ExpiresAt) {
		return "", nil
	}
	return c.Token, nil
}
