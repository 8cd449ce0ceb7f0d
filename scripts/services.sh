#!/usr/bin/env bash
# services.sh start|stop|status|env — Kafka and ClickHouse for tests.
#   eval "$(scripts/services.sh env)"   after start, in the calling shell.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case ${1:-} in
start)
	# Kafka's JVM start and ClickHouse's start overlap; both must succeed.
	"$here/kafka.sh" start >/dev/null & kpid=$!
	"$here/clickhouse.sh" start >/dev/null || { wait "$kpid" || true; exit 1; }
	wait "$kpid"
	"$here/kafka.sh" env | sed 's/^export //'
	"$here/clickhouse.sh" env | sed 's/^export //'
	;;
stop)
	"$here/kafka.sh" stop
	"$here/clickhouse.sh" stop
	;;
status)
	rc=0
	"$here/kafka.sh" status || rc=$?
	"$here/clickhouse.sh" status || rc=$?
	exit "$rc"
	;;
env)
	"$here/kafka.sh" env
	"$here/clickhouse.sh" env
	;;
*) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
