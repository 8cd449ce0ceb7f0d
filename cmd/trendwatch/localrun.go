package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// localRunFile is where `trendwatch run` records the addresses it actually
// uses, inside --data-dir: the embedded broker and ClickHouse take free
// ports at every start, so without it a CLI command on the same machine
// would have to dig them out of the log.
const localRunFile = "addresses.json"

// localRun is the content of localRunFile.
type localRun struct {
	PID                int       `json:"pid"`
	Started            time.Time `json:"started"`
	KafkaBrokers       string    `json:"kafka_brokers"`
	KafkaTopicPrefix   string    `json:"kafka_topic_prefix,omitempty"`
	ClickHouseAddr     string    `json:"clickhouse_addr"`
	ClickHouseDatabase string    `json:"clickhouse_database"`
	Listen             string    `json:"listen"`
	MetricsListen      string    `json:"metrics_listen,omitempty"`
}

// writeLocalRun records a running process's addresses (atomically, so a
// CLI never reads half a file) and returns the function that removes the
// file again on a clean exit.
func writeLocalRun(c *config, lr localRun) (func(), error) {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create --data-dir %s: %w", c.DataDir, err)
	}
	b, err := json.MarshalIndent(lr, "", "  ")
	if err != nil {
		return nil, err
	}
	path := c.path(localRunFile)
	if err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return nil, err
	}
	return func() {
		// Only our own file: a second run on the same dir may have replaced it.
		if cur, err := readLocalRun(c.DataDir); err == nil && cur.PID == lr.PID {
			_ = os.Remove(path)
		}
	}, nil
}

// errNoLocalRun means the data dir holds no addresses of a running process.
var errNoLocalRun = errors.New("no running trendwatch recorded")

// readLocalRun reads dir's addresses file. A file left by a process that
// no longer exists (killed, machine rebooted) is stale and reported as
// errNoLocalRun, like a missing one.
func readLocalRun(dir string) (localRun, error) {
	var lr localRun
	b, err := os.ReadFile(filepath.Join(dir, localRunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return lr, errNoLocalRun
	}
	if err != nil {
		return lr, fmt.Errorf("cannot read the addresses of the local run: %w", err)
	}
	if err := json.Unmarshal(b, &lr); err != nil {
		return lr, fmt.Errorf("%s/%s is not a trendwatch addresses file: %v", dir, localRunFile, err)
	}
	if !processAlive(lr.PID) {
		return lr, fmt.Errorf("%w (%s/%s is stale: process %d has exited)", errNoLocalRun, dir, localRunFile, lr.PID)
	}
	return lr, nil
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// explicit reports whether a setting was given on the command line or in
// the environment (an empty variable counts as not given).
func explicit(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set || os.Getenv(envName(name)) != ""
}

// useLocalRun fills the connection settings of a CLI command from the
// addresses file of the `trendwatch run` using the same --data-dir, unless
// the command was given an address of its own (--kafka-brokers,
// --clickhouse-addr or --listen, as a flag or in the environment): an
// address given means that deployment, not a mix with the local one. It
// reports whether a local run was used; a missing or stale file is not an
// error (the command then says what to set).
func (c *config) useLocalRun(fs *flag.FlagSet) (bool, error) {
	for _, name := range []string{"kafka-brokers", "clickhouse-addr", "listen"} {
		if fs.Lookup(name) != nil && explicit(fs, name) {
			return false, nil
		}
	}
	lr, err := readLocalRun(c.DataDir)
	if errors.Is(err, errNoLocalRun) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	set := func(name string, dst *string, v string) {
		if fs.Lookup(name) != nil && !explicit(fs, name) {
			*dst = v
		}
	}
	set("kafka-brokers", &c.KafkaBrokers, lr.KafkaBrokers)
	set("kafka-topic-prefix", &c.KafkaTopicPrefix, lr.KafkaTopicPrefix)
	set("clickhouse-addr", &c.ClickHouseAddr, lr.ClickHouseAddr)
	set("clickhouse-database", &c.ClickHouseDatabase, lr.ClickHouseDatabase)
	set("listen", &c.Listen, lr.Listen)
	return true, nil
}

// Settings CLI commands need to reach a deployment or a local run, by
// what they talk to. Each is a flag and, as every flag, TRENDWATCH_<NAME>
// in the environment.
var (
	kafkaClientFlags = []string{"kafka-brokers", "kafka-topic-prefix"}
	chClientFlags    = []string{"clickhouse-addr", "clickhouse-database", "clickhouse-user", "clickhouse-password"}
	apiClientFlags   = []string{"listen", "api-token"}
)

// bindClientConfig registers --data-dir, --log-level and the named
// settings on fs and returns the config they set; every other setting
// keeps its default.
func bindClientConfig(fs *flag.FlagSet, groups ...[]string) *config {
	all := flag.NewFlagSet("defaults", flag.ContinueOnError)
	c := bindConfig(all)
	names := []string{"data-dir", "log-level"}
	for _, g := range groups {
		names = append(names, g...)
	}
	for _, name := range names {
		f := all.Lookup(name)
		usage := f.Usage
		switch name {
		case "data-dir":
			usage = "data directory of a local trendwatch run: the addresses it recorded there are used when none is given below"
		case "listen":
			usage = "address of the trendwatch HTTP API; default: the local run's, else"
		case "kafka-brokers":
			usage = "Kafka bootstrap brokers host:port,…; default: the local run's embedded broker"
		case "clickhouse-addr":
			usage = "ClickHouse native-protocol address host:port; default: the local run's server"
		case "api-token":
			usage = "bearer token for the API (secret; or TRENDWATCH_API_TOKEN_FILE); not needed on the machine of a run without users or tokens"
		}
		fs.Var(f.Value, name, usage)
	}
	return c
}
