package testsvc

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

func TestClickHouseDatabase(t *testing.T) {
	addr := ClickHouse(t)
	var names []string
	t.Run("a", func(t *testing.T) { names = append(names, Database(t, addr)) })
	t.Run("b", func(t *testing.T) { names = append(names, Database(t, addr)) })
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names not unique: %v", names)
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, n := range names {
		var c uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.databases WHERE name = ?", n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c != 0 {
			t.Errorf("database %s not dropped at cleanup", n)
		}
	}
}

func TestKafka(t *testing.T) {
	addr := Kafka(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("Kafka at %s does not accept connections: %v", addr, err)
	}
	c.Close()
	if again := Kafka(t); again != addr {
		t.Errorf("second call returned %q, first %q", again, addr)
	}
}

// The scripts' env verb is what `eval "$(scripts/services.sh env)"` reads.
func TestScriptsEnv(t *testing.T) {
	out, err := exec.Command("bash", filepath.Join(ScriptsDir(), "services.sh"), "env").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "export TRENDWATCH_KAFKA_BROKERS=127.0.0.1:19092\nexport TRENDWATCH_CLICKHOUSE_ADDR=127.0.0.1:19000\n"
	if os.Getenv("TRENDWATCH_KAFKA_PORT") == "" && os.Getenv("TRENDWATCH_CLICKHOUSE_PORT") == "" && string(out) != want {
		t.Errorf("services.sh env = %q, want %q", out, want)
	}
	if err := exec.Command("bash", filepath.Join(ScriptsDir(), "services.sh"), "bogus").Run(); err == nil {
		t.Error("services.sh accepted an unknown verb")
	}
}
