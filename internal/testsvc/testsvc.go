// Package testsvc gives integration tests real Kafka and ClickHouse
// servers on loopback.
//
// An address in TRENDWATCH_TEST_KAFKA / TRENDWATCH_TEST_CLICKHOUSE is used
// as is (CI may start the services itself). Otherwise the first test that
// asks runs scripts/kafka.sh or scripts/clickhouse.sh start, once per test
// binary, under an flock(2) lock so concurrent test binaries (go test runs
// packages in parallel) neither race nor start two servers; the scripts
// are idempotent, so later binaries find the server running. Servers are
// left running for the next test run; scripts/services.sh stop ends them.
//
// When a service cannot be started the test is skipped with the reason,
// except in CI (CI=true), where it fails: CI must exercise the real thing.
package testsvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

type service struct {
	name   string // kafka, clickhouse
	envVar string // address override
	outVar string // the variable the script prints on start
	once   sync.Once
	addr   string
	err    error
}

var (
	kafka      = &service{name: "kafka", envVar: "TRENDWATCH_TEST_KAFKA", outVar: "TRENDWATCH_KAFKA_BROKERS"}
	clickhouse = &service{name: "clickhouse", envVar: "TRENDWATCH_TEST_CLICKHOUSE", outVar: "TRENDWATCH_CLICKHOUSE_ADDR"}
)

// Kafka returns the bootstrap address of a running Kafka broker.
func Kafka(tb testing.TB) string {
	tb.Helper()
	return kafka.get(tb)
}

// ClickHouse returns the native-protocol address of a running ClickHouse.
func ClickHouse(tb testing.TB) string {
	tb.Helper()
	return clickhouse.get(tb)
}

func (s *service) get(tb testing.TB) string {
	tb.Helper()
	if a := os.Getenv(s.envVar); a != "" {
		return a
	}
	s.once.Do(func() { s.addr, s.err = s.start() })
	if s.err != nil {
		unavailable(tb, fmt.Errorf("%s unavailable: %w", s.name, s.err))
	}
	return s.addr
}

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%v (CI must run integration tests; set %s or fix the script)", err, "TRENDWATCH_TEST_*")
	}
	tb.Skipf("skipping: %v", err)
}

// ScriptsDir is the repository's scripts directory.
func ScriptsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(file))), "scripts")
}

// startTimeout bounds a cold start, which may install packages and fetch
// jars.
const startTimeout = 10 * time.Minute

func (s *service) start() (string, error) {
	script := filepath.Join(ScriptsDir(), s.name+".sh")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("cannot find start script: %w", err)
	}
	lockDir := filepath.Join(os.TempDir(), fmt.Sprintf("trendwatch-services-%d", os.Getuid()))
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create lock dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(lockDir, s.name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("cannot open lock file: %w", err)
	}
	defer lock.Close()
	// Blocks while another test binary starts the same service; the lock
	// is released when the file is closed, or when that process dies.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("cannot lock %s: %w", lock.Name(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, "start")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s start: %w: %s", script, err, lastLines(stderr.String(), 8))
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), s.outVar+"="); ok && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s start printed no %s= line: %q", script, s.outVar, stdout.String())
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// Database creates a fresh, uniquely named database on the ClickHouse at
// addr and drops it when the test ends, so parallel tests and packages
// never see each other's rows. The name starts with test_ and the test's
// name, for debugging leftovers of a killed run.
func Database(tb testing.TB, addr string) string {
	tb.Helper()
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatalf("cannot make a database name: %v", err)
	}
	base := nonIdent.ReplaceAllString(strings.ToLower(tb.Name()), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	name := "test_" + strings.Trim(base, "_") + "_" + hex.EncodeToString(rnd[:])
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: 10 * time.Second})
	if err != nil {
		unavailable(tb, fmt.Errorf("cannot open ClickHouse %s: %w", addr, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close()
		unavailable(tb, fmt.Errorf("cannot create database %s on %s: %w", name, addr, err))
	}
	tb.Cleanup(func() {
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("cannot drop test database %s: %v", name, err)
		}
	})
	return name
}
