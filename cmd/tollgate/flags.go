package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate/tollgate/authn"
)

// envFlags defines flags whose default comes from a TOLLGATE_* variable.
// A variable that does not parse is an error, as a flag would be: it is
// reported by err after the flags are parsed.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

// err returns the first invalid variable.
func (e *envFlags) err() error {
	if len(e.errs) > 0 {
		return e.errs[0]
	}
	return nil
}

func (e *envFlags) bad(env, v, want string) {
	e.errs = append(e.errs, &usageError{msg: fmt.Sprintf("%s=%q is not %s", env, v, want)})
}

// duration defines a duration flag of at least 0 ("0" for off where the
// usage says so).
func (e *envFlags) duration(name, env string, def time.Duration, usage string) *time.Duration {
	d := def
	if v := e.getenv(env); v != "" {
		if p, err := time.ParseDuration(v); err != nil || p < 0 {
			e.bad(env, v, "a duration such as 30s")
		} else {
			d = p
		}
	}
	e.fs.DurationVar(&d, name, d, usage+" (env "+env+")")
	return &d
}

// integer defines an integer flag.
func (e *envFlags) integer(name, env string, def int, usage string) *int {
	n := def
	if v := e.getenv(env); v != "" {
		if p, err := strconv.Atoi(v); err != nil || p < 0 {
			e.bad(env, v, "a whole number")
		} else {
			n = p
		}
	}
	e.fs.IntVar(&n, name, n, usage+" (env "+env+")")
	return &n
}

// rate defines a failure limit flag ("N/DURATION").
func (e *envFlags) rate(name, env string, def authn.Rate, usage string) *authn.Rate {
	r := def
	if v := e.getenv(env); v != "" {
		if p, err := authn.ParseRate(v); err != nil {
			e.bad(env, v, "a rate such as 20/1m")
		} else {
			r = p
		}
	}
	e.fs.Func(name, usage+" (env "+env+"; default "+def.String()+")", func(s string) error {
		p, err := authn.ParseRate(s)
		if err == nil {
			r = p
		}
		return err
	})
	return &r
}

// boolean defines a boolean flag (true/false, 1/0).
func (e *envFlags) boolean(name, env string, def bool, usage string) *bool {
	b := def
	if v := e.getenv(env); v != "" {
		if p, err := strconv.ParseBool(v); err != nil {
			e.bad(env, v, "true or false")
		} else {
			b = p
		}
	}
	e.fs.BoolVar(&b, name, b, usage+" (env "+env+")")
	return &b
}
