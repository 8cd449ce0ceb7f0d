package main

import (
	"flag"
	"io"
	"os"
	"testing"
)

// TestUseLocalRun: the local run's addresses fill what a command was not
// given; any address given (flag or environment) means that deployment,
// and nothing is mixed in from the local run.
func TestUseLocalRun(t *testing.T) {
	dir := t.TempDir()
	c0 := &config{DataDir: dir}
	remove, err := writeLocalRun(c0, localRun{PID: os.Getpid(), KafkaBrokers: "127.0.0.1:41001", KafkaTopicPrefix: "loc.",
		ClickHouseAddr: "127.0.0.1:41002", ClickHouseDatabase: "localdb", Listen: "127.0.0.1:41003"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"TRENDWATCH_KAFKA_BROKERS", "TRENDWATCH_CLICKHOUSE_ADDR", "TRENDWATCH_LISTEN", "TRENDWATCH_KAFKA_TOPIC_PREFIX", "TRENDWATCH_CLICKHOUSE_DATABASE"} {
		t.Setenv(k, "")
	}
	parse := func(args ...string) (*config, bool) {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c := bindClientConfig(fs, kafkaClientFlags, chClientFlags, apiClientFlags)
		if err := parseFlags(fs, append([]string{"--data-dir", dir}, args...)); err != nil {
			t.Fatal(err)
		}
		used, err := c.useLocalRun(fs)
		if err != nil {
			t.Fatal(err)
		}
		return c, used
	}
	if c, used := parse(); !used || c.KafkaBrokers != "127.0.0.1:41001" || c.KafkaTopicPrefix != "loc." || c.ClickHouseAddr != "127.0.0.1:41002" ||
		c.ClickHouseDatabase != "localdb" || c.Listen != "127.0.0.1:41003" {
		t.Errorf("only --data-dir: used %v, %+v", used, c)
	}
	if c, used := parse("--listen", "10.0.0.5:8080"); used || c.KafkaBrokers != "" || c.Listen != "10.0.0.5:8080" {
		t.Errorf("--listen given: used %v, brokers %q listen %q", used, c.KafkaBrokers, c.Listen)
	}
	t.Setenv("TRENDWATCH_CLICKHOUSE_ADDR", "10.0.0.6:9000")
	if c, used := parse(); used || c.ClickHouseAddr != "10.0.0.6:9000" || c.KafkaBrokers != "" {
		t.Errorf("TRENDWATCH_CLICKHOUSE_ADDR given: used %v, %+v", used, c)
	}
	remove()
	t.Setenv("TRENDWATCH_CLICKHOUSE_ADDR", "")
	if _, used := parse(); used {
		t.Error("the local run is still used after its file was removed")
	}
}
