#!/usr/bin/env bash
# The whole test suite, services included: installs what is missing (Debian's
# ClickHouse, Kafka jars from Maven Central, chdb from PyPI, Chromium for the
# browser tests), starts real Kafka and ClickHouse on loopback, runs every Go
# test against them, and stops what it started. Exit status is go test's.
#
#   scripts/test.sh            # everything
#   scripts/test.sh ./bus/...  # some packages, same services
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*" >&2; }

need_apt=()
command -v clickhouse-server >/dev/null 2>&1 || command -v clickhouse >/dev/null 2>&1 || need_apt+=(clickhouse-server clickhouse-client)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  log "installing ${need_apt[*]} from Debian"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import chdb' >/dev/null 2>&1; then
  log "installing chdb (current ClickHouse engine) from PyPI"
  python3 -m pip install -q chdb >/dev/null 2>&1 || pip3 install -q --break-system-packages chdb >/dev/null
fi

if ! python3 -c 'import openapi_spec_validator' >/dev/null 2>&1; then
  log "installing openapi-spec-validator (checks the served OpenAPI document) from PyPI"
  python3 -m pip install -q openapi-spec-validator >/dev/null 2>&1 || pip3 install -q --break-system-packages openapi-spec-validator >/dev/null
fi

# A real SMTP server for the email channel's tests (Go module proxy).
TRENDWATCH_MAILPIT=$(scripts/mailpit.sh)
export TRENDWATCH_MAILPIT

started=0
cleanup() {
  if ((started)) && [[ -z ${TRENDWATCH_KEEP_SERVICES:-} ]]; then
    log "stopping services"
    scripts/services.sh stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

log "starting Kafka and ClickHouse"
# A broker this run starts begins empty: the tests' topics are throwaway.
TRENDWATCH_KAFKA_FRESH=1 scripts/services.sh start >&2
started=1
eval "$(scripts/services.sh env)"
export TRENDWATCH_TEST_KAFKA="${TRENDWATCH_KAFKA_BROKERS}"
export TRENDWATCH_TEST_CLICKHOUSE="${TRENDWATCH_CLICKHOUSE_ADDR}"
unset TRENDWATCH_KAFKA_BROKERS TRENDWATCH_CLICKHOUSE_ADDR

pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)
log "go test ${pkgs[*]}"
# -p 2: two cores; integration packages share the two servers.
go test -p 2 -count=1 -timeout 25m "${pkgs[@]}"
