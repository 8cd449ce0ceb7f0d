package server

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestNoBinaryErrorIsInstallCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), Options{Binary: "clickhouse-nope", DataDir: t.TempDir()}, nil)
	if !errors.Is(err, ErrNoBinary) {
		t.Fatalf("err = %v, want ErrNoBinary", err)
	}
	if ErrNoBinary.Error() != "sudo apt-get install -y clickhouse-server (other systems: https://clickhouse.com/docs/en/install)" {
		t.Errorf("install hint changed: %q", ErrNoBinary)
	}
	saved := candidates
	candidates = []string{"clickhouse-server"} // PATH only, and PATH is empty
	defer func() { candidates = saved }()
	{
		_, err := Start(context.Background(), Options{DataDir: t.TempDir()}, nil)
		if err == nil || err.Error() != InstallHint {
			t.Errorf("Start without a binary: err = %v, want exactly %q", err, InstallHint)
		}
	}
}

func TestStartQueryStop(t *testing.T) {
	if _, err := findBinary(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must have ClickHouse: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	dir := t.TempDir()
	o := Options{DataDir: dir, TCPPort: freePort(t), HTTPPort: freePort(t), StopTimeout: 20 * time.Second}
	t0 := time.Now()
	s, err := Start(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v", time.Since(t0))
	defer s.Stop()
	conn, err := ch.Open(&ch.Options{Addr: []string{s.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	var one uint8
	if err := conn.QueryRow(context.Background(), "SELECT toUInt8(1)").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	conn.Close()
	if _, err := os.Stat(filepath.Join(dir, "config.xml")); err != nil {
		t.Errorf("config not under DataDir: %v", err)
	}
	// A second server on the same port fails clearly instead of hanging.
	if _, err := Start(context.Background(), Options{DataDir: t.TempDir(), TCPPort: o.TCPPort, HTTPPort: freePort(t)}, nil); err == nil ||
		!strings.Contains(err.Error(), strconv.Itoa(o.TCPPort)) {
		t.Errorf("second Start on a used port: %v", err)
	}
	pid := s.cmd.Process.Pid
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("server pid %d still alive after Stop", pid)
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("port %s still open after Stop", s.Addr())
	}
}

// TestNoOrphan starts the server from a helper process that then dies by
// SIGKILL; Pdeathsig must take the server down with it.
func TestNoOrphan(t *testing.T) {
	if os.Getenv("TW_SERVER_HELPER") != "" {
		port, _ := strconv.Atoi(os.Getenv("TW_SERVER_PORT"))
		httpPort, _ := strconv.Atoi(os.Getenv("TW_SERVER_HTTP_PORT"))
		s, err := Start(context.Background(), Options{DataDir: os.Getenv("TW_SERVER_DIR"), TCPPort: port, HTTPPort: httpPort}, nil)
		if err != nil {
			os.Stderr.WriteString(err.Error()) // the parent shows why
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(s.cmd.Process.Pid) + "\n")
		time.Sleep(time.Hour) // until killed
		return
	}
	if _, err := findBinary(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	// Two ports each found free: port+1 could be a busy ephemeral port
	// while other packages' tests run.
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOrphan$")
	cmd.Env = append(os.Environ(), "TW_SERVER_HELPER=1", "TW_SERVER_DIR="+t.TempDir(),
		"TW_SERVER_PORT="+strconv.Itoa(freePort(t)), "TW_SERVER_HTTP_PORT="+strconv.Itoa(freePort(t)))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not report a server pid: %q; its stderr: %s", buf[:n], stderr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("server pid %d outlived its parent", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
