package main

import (
	"context"
	"fmt"
	"io"
)

// evalCommands are the `trendwatch eval <what>` subcommands, registered by
// the files that implement them.
var evalCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{}

func init() {
	register("eval", "evaluate matching (eval match) or trend detection (eval trends) on labelled data", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stdout, "Usage: trendwatch eval match|trends [flags]")
			return nil
		}
		run, ok := evalCommands[args[0]]
		if !ok {
			return usagef("unknown eval %q (want match or trends)", args[0])
		}
		return run(ctx, args[1:], stdout, stderr)
	})
}
