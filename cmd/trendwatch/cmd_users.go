package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trendwatch/trendwatch/store/clickhouse"
	"github.com/trendwatch/trendwatch/web"
)

func init() {
	register("users", "manage dashboard users and API tokens (add, list, disable, token, revoke)", runUsers)
}

const usersUsage = `Usage:
  trendwatch users add NAME --role analyst|editor|responder|admin   (password from TRENDWATCH_USER_PASSWORD or stdin)
  trendwatch users list
  trendwatch users disable NAME
  trendwatch users token LABEL --role ROLE [--ttl 720h]             (prints the secret once)
  trendwatch users tokens
  trendwatch users revoke TOKEN_ID
ClickHouse is taken from --clickhouse-addr, --clickhouse-database, --clickhouse-user and
--clickhouse-password (or TRENDWATCH_CLICKHOUSE_ADDR, …), else from the running
` + "`trendwatch run`" + ` whose --data-dir is given (default ./data).`

// runUsers manages credentials directly in ClickHouse, so the first admin
// can be created before any server runs (or use TRENDWATCH_ADMIN_PASSWORD
// with serve).
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usersUsage)
		if len(args) == 0 {
			return usagef("users needs a subcommand")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "role: "+strings.Join(web.Roles, ", "))
	ttl := fs.Duration("ttl", 0, "token lifetime; 0 never expires")
	c := bindClientConfig(fs, chClientFlags)
	if err := applyEnv(fs); err != nil {
		return err
	}
	var pos []string
	for len(rest) > 0 { // flags may follow the positional argument
		if err := fs.Parse(rest); err != nil {
			return usagef("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if err := c.validate(); err != nil {
		return usagef("invalid configuration:\n%w", err)
	}
	if _, err := c.useLocalRun(fs); err != nil {
		return err
	}
	if c.ClickHouseAddr == "" {
		return usagef("no ClickHouse to manage users in: set --clickhouse-addr (TRENDWATCH_CLICKHOUSE_ADDR), or start `trendwatch run` and pass its --data-dir (now %s, where no running instance is recorded)", c.DataDir)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, c, c.ClickHouseAddr, log)
	if err != nil {
		return err
	}
	defer st.Close()
	need := func(n int) error {
		if len(pos) != n {
			return usagef("users %s takes %d argument(s), got %d\n%s", sub, n, len(pos), usersUsage)
		}
		return nil
	}
	switch sub {
	case "add":
		if err := need(1); err != nil {
			return err
		}
		pw, err := readPassword()
		if err != nil {
			return err
		}
		if err := web.EnsureUser(ctx, st, pos[0], *role, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s (%s) saved\n", pos[0], *role)
	case "list":
		us, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tDISABLED\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", u.Name, u.Role, u.Disabled, u.Created.Format(time.RFC3339))
		}
		return tw.Flush()
	case "disable":
		if err := need(1); err != nil {
			return err
		}
		u, err := st.User(ctx, pos[0])
		if errors.Is(err, clickhouse.ErrNotFound) {
			return usagef("no user %q", pos[0])
		}
		if err != nil {
			return err
		}
		u.Disabled = true
		if err := st.PutUser(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s disabled\n", u.Name)
	case "token":
		if err := need(1); err != nil {
			return err
		}
		secret, t, err := web.NewToken(ctx, st, pos[0], *role, "cli", *ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %s (%s, id %s); the secret below is shown once:\n", t.Label, t.Role, t.ID)
		fmt.Fprintln(stdout, secret)
	case "tokens":
		ts, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLABEL\tROLE\tREVOKED\tEXPIRES")
		for _, t := range ts {
			exp := "never"
			if !t.Expires.IsZero() {
				exp = t.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", t.ID, t.Label, t.Role, t.Revoked, exp)
		}
		return tw.Flush()
	case "revoke":
		if err := need(1); err != nil {
			return err
		}
		ts, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID == pos[0] {
				t.Revoked = true
				if err := st.PutToken(ctx, t); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "token %s revoked\n", t.ID)
				return nil
			}
		}
		return usagef("no token with id %q", pos[0])
	default:
		return usagef("unknown users subcommand %q\n%s", sub, usersUsage)
	}
	return nil
}

// readPassword takes TRENDWATCH_USER_PASSWORD(_FILE), else the first line
// of stdin, so passwords never appear in the process list.
func readPassword() (string, error) {
	pw, err := secretEnv("TRENDWATCH_USER_PASSWORD")
	if err != nil || pw != "" {
		return pw, err
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read the password from stdin: %w", err)
	}
	pw = strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("no password: set TRENDWATCH_USER_PASSWORD or pipe it on stdin")
	}
	return pw, nil
}
