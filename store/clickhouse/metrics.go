package clickhouse

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	rowsWritten = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "rows_written_total",
		Help: "Rows sent to ClickHouse, by table (re-deliveries included).",
	}, []string{"table"})
	writeErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "write_errors_total",
		Help: "Failed ClickHouse batch inserts, by table.",
	}, []string{"table"})
)
