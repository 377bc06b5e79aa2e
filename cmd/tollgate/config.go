package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// configFlag names the optional settings file every command takes.
const configFlag = "config"

// defineConfig adds --config to a command's flags.
func defineConfig(fs *flag.FlagSet, getenv func(string) string) {
	fs.String(configFlag, getenv("TOLLGATE_CONFIG"), "a TOML file of settings with the same names as these flags (key-rotation = \"720h\", "+
		"trusted-proxies = [\"10.0.0.0/8\"]); a flag or a TOLLGATE_* variable overrides the file (env TOLLGATE_CONFIG)")
}

// envName is the TOLLGATE_* variable of a flag.
func envName(flagName string) string {
	return "TOLLGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyConfig sets, from the --config file, each flag that neither the
// command line nor its TOLLGATE_* variable set (precedence: flag, then
// variable, then file, then default). A setting that is not one of the
// command's flags, or whose value its flag refuses, is a usage error
// naming the file and the setting.
func applyConfig(fs *flag.FlagSet, getenv func(string) string) error {
	path := fs.Lookup(configFlag).Value.String()
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--config: %v", err)}
	}
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		return &usageError{msg: fmt.Sprintf("--config %s: %s", path, strings.ReplaceAll(err.Error(), "\n", " "))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil || name == configFlag {
			return &usageError{msg: fmt.Sprintf("--config %s: %q is not a setting of %s", path, name, fs.Name())}
		}
		value, ok := settingValue(raw[name])
		if !ok {
			return &usageError{msg: fmt.Sprintf("--config %s: %s must be a string, a number, a boolean or a list of strings", path, name)}
		}
		if set[name] || getenv(envName(name)) != "" {
			continue
		}
		if err := f.Value.Set(value); err != nil {
			return &usageError{msg: fmt.Sprintf("--config %s: %s = %q: %v", path, name, value, err)}
		}
	}
	return nil
}

// settingValue is a TOML value as a flag's text.
func settingValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64, float64, bool:
		return fmt.Sprint(v), true
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return "", false
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}
