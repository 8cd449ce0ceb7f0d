package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
)

func init() {
	register("check-config", "validate flags and TRENDWATCH_* environment; exit non-zero naming each bad setting", func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		c, err := loadConfig("check-config", args, stderr)
		if err != nil {
			return err
		}
		// Print the effective configuration, secrets masked, so operators
		// see what the environment resolved to.
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_ = bindConfig(fs)
		_ = parseFlags(fs, args)
		var lines []string
		fs.VisitAll(func(f *flag.Flag) {
			v := f.Value.String()
			if secretFlags[f.Name] && v != "" {
				v = "***"
			}
			lines = append(lines, fmt.Sprintf("  %-22s %s", f.Name, v))
		})
		sort.Strings(lines)
		fmt.Fprintln(stdout, "configuration is valid:")
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		mode := "distributed"
		if c.KafkaBrokers == "" || c.ClickHouseAddr == "" {
			mode = "embedded default for what is not configured (trendwatch run)"
		}
		fmt.Fprintf(stdout, "mode: %s\n", mode)
		fmt.Fprintln(stdout, "note: thresholds and an alert policy an admin stored (Settings page, PUT /api/v1/settings/...) override --thresholds, --alert-policy and --alert-verdicts")
		return nil
	})
}
