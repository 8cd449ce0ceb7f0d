package bus

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka-protocol broker (franz-go's kfake) on
// loopback, for `trendwatch run` with no cluster configured and for fast
// tests. The same kafka-go code paths talk to it as to a real cluster.
type Embedded struct {
	c *kfake.Cluster
}

// StartEmbedded starts the broker on 127.0.0.1:port (0 picks a free port),
// persisting under dir when dir is not empty.
func StartEmbedded(dir string, port int, logger *slog.Logger) (*Embedded, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.ClusterID("trendwatch-embedded")}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create broker data dir %s: %w", dir, err)
		}
		opts = append(opts, kfake.DataDir(dir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot start embedded Kafka broker on port %d: %w", port, err)
	}
	logger.Info("embedded Kafka broker started", slog.Any("addrs", c.ListenAddrs()), slog.String("dir", dir))
	return &Embedded{c: c}, nil
}

// Brokers returns the broker addresses.
func (e *Embedded) Brokers() []string { return e.c.ListenAddrs() }

// Close stops the broker, flushing its data.
func (e *Embedded) Close() { e.c.Close() }
