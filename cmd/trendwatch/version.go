package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register("version", "print the version", func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlagSet("version", stderr)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		v := version
		if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		fmt.Fprintf(stdout, "trendwatch %s\n", v)
		return nil
	})
}
