// Command trendwatch watches what spreads online and catches false
// information early. One binary runs every stage; `trendwatch help` lists
// the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
)

// command is one subcommand. Files in this package register theirs in init
// so that each stage's wiring lives beside the others without one big switch.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	if _, dup := commands[name]; dup {
		panic("duplicate command " + name)
	}
	commands[name] = command{name: name, summary: summary, run: run}
}

// errUsage marks errors that are the caller's fault; main exits 2 for them.
// Wrap it with usagef so the message does not carry a generic prefix.
var errUsage = errors.New("usage error")

type usageError struct{ err error }

func (u usageError) Error() string            { return u.err.Error() }
func (u usageError) Unwrap() []error          { return []error{errUsage, u.err} }
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	// An analyzer's heap is mostly its long-lived facts index while every
	// post makes short-lived garbage: at Go's default (GOGC=100) collection
	// took ~15% of the analyzer's CPU under load. 200 halves the number of
	// collections for at most one more index-size of headroom. GOGC and
	// GOMEMLIMIT in the environment still decide when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				_ = c.run(ctx, []string{"-h"}, stdout, stderr)
				return 0
			}
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "trendwatch: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "trendwatch %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "trendwatch — watch what spreads online and catch false information early")
	fmt.Fprintln(w, "\nUsage: trendwatch <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as TRENDWATCH_<FLAG> in the environment (dashes become")
	fmt.Fprintln(w, "underscores); secrets also from a file named by TRENDWATCH_<FLAG>_FILE.")
	fmt.Fprintln(w, "Run `trendwatch help <command>` for a command's flags.")
}
