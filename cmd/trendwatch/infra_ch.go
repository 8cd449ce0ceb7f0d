package main

import (
	"context"
	"errors"
	"log/slog"
)

// startLocalClickHouse supervises a ClickHouse server under the data dir.
var startLocalClickHouse = func(ctx context.Context, c *config, log *slog.Logger) (string, func(), error) {
	return "", nil, errors.New("embedded ClickHouse supervisor not built yet")
}
