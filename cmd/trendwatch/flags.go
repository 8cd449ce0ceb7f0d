package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// errHelp is returned when -h was asked for; main exits 0.
var errHelp = flag.ErrHelp

// newFlagSet returns a flag set whose errors are returned, not fatal.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("trendwatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// secretFlags names the flags that may also be read from <ENV>_FILE.
var secretFlags = map[string]bool{}

// markSecret declares that a flag holds a secret: it is never printed and
// may be read from the file named by TRENDWATCH_<NAME>_FILE.
func markSecret(names ...string) {
	for _, n := range names {
		secretFlags[n] = true
	}
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "TRENDWATCH_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseFlags applies, in increasing precedence: defaults, the environment
// (TRENDWATCH_<NAME>, or TRENDWATCH_<NAME>_FILE for secrets), then the
// command line.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := applyEnv(fs); err != nil {
		return err
	}
	// Flags may follow the positional arguments ("replay FILE --speed 0",
	// as people type it); "--" ends the flags.
	head, tail := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		head, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(head); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("%w", err)
		}
		if head = fs.Args(); len(head) == 0 {
			break
		}
		pos, head = append(pos, head[0]), head[1:]
	}
	return fs.Parse(append([]string{"--"}, append(pos, tail...)...))
}

// applyEnv sets fs's flags from TRENDWATCH_<NAME> (or <NAME>_FILE for
// secrets), before the command line is parsed.
func applyEnv(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("invalid %s=%q: %w", env, v, err))
			}
			return
		}
		if secretFlags[f.Name] {
			if path, ok := os.LookupEnv(env + "_FILE"); ok {
				b, err := os.ReadFile(path)
				if err != nil {
					errs = append(errs, fmt.Errorf("cannot read %s_FILE: %w", env, err))
					return
				}
				if err := f.Value.Set(strings.TrimRight(string(b), "\r\n")); err != nil {
					errs = append(errs, fmt.Errorf("invalid %s_FILE: %w", env, err))
				}
			}
		}
	})
	if len(errs) > 0 {
		return usagef("%w", errors.Join(errs...))
	}
	return nil
}

// secretEnv reads NAME, or the file named by NAME_FILE (trailing newline
// trimmed), for secrets that are not flags (a password piped to a CLI).
func secretEnv(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	if f := os.Getenv(name + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("cannot read %s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
