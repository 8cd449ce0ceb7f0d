# shellcheck shell=bash
# Helpers shared by scripts/kafka.sh and scripts/clickhouse.sh: cache and
# state directories, pid-file process control, port waits and apt installs.
# Sourced, never executed.

TRENDWATCH_CACHE=${TRENDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trendwatch}
# State (data dirs, logs, pid files) lives apart from the cache so CI can
# cache downloads without caching a half-written broker log.
TRENDWATCH_STATE=${TRENDWATCH_STATE:-${TMPDIR:-/tmp}/trendwatch-services-$(id -u)}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# now_ms prints a monotonic-enough wall clock in milliseconds.
now_ms() { date +%s%3N; }

# pid_alive PIDFILE [PATTERN]: true when the file names a live process
# (whose command line contains PATTERN, so a pid recycled after a reboot
# or crash is not mistaken for our server).
pid_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ -z ${2:-} || ! -r /proc/$pid/cmdline ]] && return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# port_open HOST PORT: true when something accepts TCP connections.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# stop_pid PIDFILE NAME TIMEOUT_S: SIGTERM, wait, SIGKILL after the timeout.
stop_pid() {
	local file=$1 name=$2 timeout=${3:-30} pattern=${4:-} pid i
	if ! pid_alive "$file" "$pattern"; then
		rm -f "$file"
		log "$name not running"
		return 0
	fi
	pid=$(<"$file")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (pid $pid) did not exit in ${timeout}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$file"
	log "$name stopped"
}

# sudo_if_needed runs a command as root, through sudo when not root already.
sudo_if_needed() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

# apt_install PKG...: installs Debian packages, refreshing the package lists
# only when the first attempt fails (fresh images ship without lists).
apt_install() {
	command -v apt-get >/dev/null || die "apt-get not found; install $* with your package manager"
	export DEBIAN_FRONTEND=noninteractive
	if ! sudo_if_needed apt-get install -y --no-install-recommends "$@" >&2; then
		sudo_if_needed apt-get update >&2 || die "apt-get update failed"
		sudo_if_needed apt-get install -y --no-install-recommends "$@" >&2 || die "cannot install $*"
	fi
}

# lock_state NAME: serialises start/stop of one service across processes
# (two test binaries, or a person and a test), held until the script exits.
lock_state() {
	mkdir -p "$TRENDWATCH_STATE"
	command -v flock >/dev/null || return 0 # util-linux; present on Debian
	exec 9>"$TRENDWATCH_STATE/$1.script.lock"
	flock -w 600 9 || die "timed out waiting for $TRENDWATCH_STATE/$1.script.lock"
}
