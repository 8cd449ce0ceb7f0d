package main

import (
	"context"
	"io"

	"github.com/trendwatch/trendwatch/ingest"
)

// newPostPublisher connects to the configured Kafka (or fails with a clear
// message) and returns a publisher for trendwatch.posts and its closer.
// Commands that publish posts (replay, ingest) call it after parsing flags.
var newPostPublisher func(ctx context.Context, stderr io.Writer) (ingest.Publisher, func() error, error)
