// Package server supervises a local ClickHouse server as a child process:
// the embedded default of `trendwatch run`, so a single machine needs no
// separately managed database.
//
// It runs the distribution's binary (clickhouse-server, or the single
// `clickhouse` binary's "server" mode) with a config generated under
// DataDir, listening on loopback only, and waits until the native port
// answers a ping through github.com/ClickHouse/clickhouse-go/v2 (the same
// client the store uses). The child dies with its parent (Pdeathsig on
// Linux), so a crashed trendwatch leaves no orphan server.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"text/template"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// InstallHint is the text of the error returned when no server binary is
// found: the command that installs one on Debian/Ubuntu, and where to look
// otherwise.
const InstallHint = "sudo apt-get install -y clickhouse-server (other systems: https://clickhouse.com/docs/en/install)"

// ErrNoBinary is returned (wrapped) when no ClickHouse server binary is found.
var ErrNoBinary = errors.New(InstallHint)

// Options configure the child server.
type Options struct {
	// Binary is the server command: a path or name of clickhouse-server, or
	// of the single clickhouse binary (run as "clickhouse server"). Empty
	// searches PATH (and /usr/sbin, which is not on non-root PATHs).
	Binary   string
	DataDir  string // required; config, data and logs go here
	TCPPort  int    // native protocol; default 19000
	HTTPPort int    // default 18123
	// StartTimeout bounds waiting for the first answer; default 60s.
	StartTimeout time.Duration
	// StopTimeout bounds waiting after SIGTERM before SIGKILL; default 30s.
	StopTimeout time.Duration
}

// Server is a running child ClickHouse.
type Server struct {
	opts   Options
	cmd    *exec.Cmd
	logger *slog.Logger
	done   chan struct{} // closed when the process has exited
	err    error         // exit status, valid after done
	stop   sync.Once
}

// candidates are tried in order when Options.Binary is empty; absolute
// paths cover /usr/sbin, which is not on a non-root PATH.
var candidates = []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"}

// findBinary resolves Options.Binary to the argv prefix that starts a
// server.
func findBinary(bin string) ([]string, error) {
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return nil, fmt.Errorf("ClickHouse binary %q: %w; %w", bin, err, ErrNoBinary)
		}
		if filepath.Base(p) == "clickhouse" {
			return []string{p, "server"}, nil
		}
		return []string{p}, nil
	}
	for _, cand := range candidates {
		if p, err := exec.LookPath(cand); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	// The error text is just the fix, so an operator can paste it.
	return nil, ErrNoBinary
}

// Start writes the config and starts the server, returning once it answers.
func Start(ctx context.Context, opts Options, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		return nil, errors.New("ClickHouse server: DataDir is required")
	}
	if opts.TCPPort == 0 {
		opts.TCPPort = 19000
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = 18123
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	argv, err := findBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("ClickHouse data dir %s: %w", opts.DataDir, err)
	}
	opts.DataDir = dir
	// Fail fast with a clear message instead of a server log line.
	for _, p := range []int{opts.TCPPort, opts.HTTPPort} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return nil, fmt.Errorf("ClickHouse port %d unavailable: %w", p, err)
		}
		l.Close()
	}
	cfg, err := writeConfig(opts)
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(argv[0], append(argv[1:], "--config-file="+cfg)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", argv[0], err)
	}
	s := &Server{opts: opts, cmd: cmd, logger: logger, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	logger.Info("starting ClickHouse", slog.String("binary", argv[0]), slog.Int("pid", cmd.Process.Pid),
		slog.String("addr", s.Addr()), slog.String("data_dir", dir))
	t0 := time.Now()
	if err := s.wait(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	logger.Info("ClickHouse ready", slog.String("addr", s.Addr()), slog.Duration("took", time.Since(t0)))
	return s, nil
}

func (s *Server) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	conn, err := ch.Open(&ch.Options{Addr: []string{s.Addr()}, DialTimeout: time.Second})
	if err != nil {
		return fmt.Errorf("cannot create ClickHouse client: %w", err)
	}
	defer conn.Close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := conn.Ping(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("ClickHouse exited during start-up (%v); see %s", s.err, s.errLog())
		case <-ctx.Done():
			return fmt.Errorf("ClickHouse did not answer on %s within %s (last error: %v); see %s", s.Addr(), s.opts.StartTimeout, err, s.errLog())
		case <-tick.C:
		}
	}
}

func (s *Server) errLog() string { return filepath.Join(s.opts.DataDir, "log", "server.err.log") }

// Addr is the native-protocol address (host:port).
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.opts.TCPPort))
}

// Done is closed when the server process exits (for a run group).
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop sends SIGTERM, waits up to StopTimeout and then kills the server.
// It is safe to call more than once and after the process has exited.
func (s *Server) Stop() error {
	s.stop.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(s.opts.StopTimeout):
			s.logger.Warn("ClickHouse did not stop in time, killing it", slog.Duration("timeout", s.opts.StopTimeout))
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		s.logger.Info("ClickHouse stopped")
	})
	<-s.done
	return nil
}

var configTmpl = template.Must(template.New("config").Parse(`<?xml version="1.0"?>
<!-- Generated by trendwatch on every start; edits are overwritten. -->
<yandex>
    <logger>
        <level>warning</level>
        <log>{{.Dir}}/log/server.log</log>
        <errorlog>{{.Dir}}/log/server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{{.TCPPort}}</tcp_port>
    <http_port>{{.HTTPPort}}</http_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>536870912</mark_cache_size>
    <path>{{.Dir}}/data/</path>
    <tmp_path>{{.Dir}}/tmp/</tmp_path>
    <user_files_path>{{.Dir}}/user_files/</user_files_path>
    <format_schema_path>{{.Dir}}/format_schemas/</format_schema_path>
    <users_config>{{.Dir}}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
`))

// Loopback-only and passwordless: the server is reachable from this
// machine alone, like a Unix socket.
const usersXML = `<?xml version="1.0"?>
<!-- Generated by trendwatch on every start; edits are overwritten. -->
<yandex>
    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

func writeConfig(o Options) (string, error) {
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(o.DataDir, d), 0o750); err != nil {
			return "", fmt.Errorf("cannot create ClickHouse dir: %w", err)
		}
	}
	var b bytes.Buffer
	if err := configTmpl.Execute(&b, struct {
		Dir               string
		TCPPort, HTTPPort int
	}{xmlEscape(o.DataDir), o.TCPPort, o.HTTPPort}); err != nil {
		return "", fmt.Errorf("cannot render ClickHouse config: %w", err)
	}
	cfg := filepath.Join(o.DataDir, "config.xml")
	if err := os.WriteFile(cfg, b.Bytes(), 0o640); err != nil {
		return "", fmt.Errorf("cannot write ClickHouse config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.DataDir, "users.xml"), []byte(usersXML), 0o640); err != nil {
		return "", fmt.Errorf("cannot write ClickHouse users: %w", err)
	}
	return cfg, nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
