// Package deps pins the project's chosen dependencies while the packages
// that use them are being written. Remove an import once real code uses it.
package deps

import (
	_ "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/abadojack/whatlanggo"
	_ "github.com/andybalholm/brotli"
	_ "github.com/coder/websocket"
	_ "github.com/gocolly/colly/v2"
	_ "github.com/kljensen/snowball"
	_ "github.com/microcosm-cc/bluemonday"
	_ "github.com/mmcdole/gofeed"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/segmentio/kafka-go"
	_ "github.com/twmb/franz-go/pkg/kfake"
	_ "go.uber.org/goleak"
	_ "golang.org/x/net/html"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/time/rate"
)
