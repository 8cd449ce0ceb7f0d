package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	chserver "github.com/trendwatch/trendwatch/store/clickhouse/server"
)

// startLocalClickHouse supervises a ClickHouse server under the data dir,
// on free loopback ports so that it never collides with a server the user
// already runs.
func startLocalClickHouse(ctx context.Context, c *config, log *slog.Logger) (string, func(), error) {
	tcp, err := freeLoopbackPort()
	if err != nil {
		return "", nil, err
	}
	httpPort, err := freeLoopbackPort()
	if err != nil {
		return "", nil, err
	}
	srv, err := chserver.Start(ctx, chserver.Options{Binary: c.ClickHouseBinary, DataDir: c.path("clickhouse"), TCPPort: tcp, HTTPPort: httpPort}, log)
	if err != nil {
		return "", nil, err
	}
	return srv.Addr(), func() {
		if err := srv.Stop(); err != nil {
			log.Warn("ClickHouse did not stop cleanly", slog.Any("err", err))
		}
	}, nil
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
