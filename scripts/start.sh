#!/usr/bin/env bash
# Start everything in one process with the embedded default: an in-process
# Kafka-protocol broker and a supervised local ClickHouse (installed from
# Debian when missing). Extra arguments go to `trendwatch run`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clickhouse-server >/dev/null 2>&1 && ! command -v clickhouse >/dev/null 2>&1; then
  echo "installing ClickHouse (Debian package clickhouse-server)…" >&2
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clickhouse-server >/dev/null
fi
go build -o bin/trendwatch ./cmd/trendwatch
# exec, so that SIGINT/SIGTERM reach trendwatch itself and it stops its children cleanly.
exec bin/trendwatch run "$@"
