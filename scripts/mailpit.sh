#!/usr/bin/env bash
# mailpit.sh [path] — install the mailpit SMTP test server (a real SMTP
# server with STARTTLS and AUTH, plus an HTTP API to read received mail) from
# the Go module proxy into $TRENDWATCH_CACHE/bin and print the binary's path.
#
# The alert/notify/email tests start it themselves on loopback ports; they
# look for it in $TRENDWATCH_MAILPIT, then $TRENDWATCH_CACHE/bin, then PATH.
#
#   scripts/mailpit.sh          install when missing, print the path
#   scripts/mailpit.sh path     print the path only (fails when missing)
#
# Environment (all optional):
#   TRENDWATCH_MAILPIT_VERSION  module version (v1.33.1)
#   TRENDWATCH_CACHE            see scripts/lib/common.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

version=${TRENDWATCH_MAILPIT_VERSION:-v1.33.1}
bindir=$TRENDWATCH_CACHE/bin
bin=$bindir/mailpit
# go install leaves the binary's version as "dev" (and `mailpit version`
# calls GitHub), so a stamp file records what was installed.
stamp=$bindir/mailpit.version

case ${1:-install} in
path)
	[[ -x $bin ]] || die "mailpit is not installed; run $0"
	echo "$bin"
	;;
install)
	if [[ ! -x $bin || ! -f $stamp || $(<"$stamp") != "$version" ]]; then
		command -v go >/dev/null || die "go is not on PATH"
		mkdir -p "$bindir"
		log "installing github.com/axllent/mailpit@$version into $bindir"
		# GOFLAGS=-mod=mod keeps a caller's -mod=vendor from applying to a
		# module outside this repository.
		GOBIN=$bindir GOFLAGS=-mod=mod go install "github.com/axllent/mailpit@$version"
		echo "$version" >"$stamp"
	fi
	echo "$bin"
	;;
*)
	die "usage: $0 [install|path]"
	;;
esac
