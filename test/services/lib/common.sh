# shellcheck shell=bash
# Shared helpers for services.sh: paths, logging, pids, ports, waiting.
# Sourced, not executed.

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$SERVICES_DIR/.run"
LOG_DIR="$RUN_DIR/logs"
# shellcheck disable=SC2034  # used by services.sh
ENV_FILE="$RUN_DIR/services.env"
# Caches live outside the work tree so a fresh clone on the same machine reuses them.
CACHE_DIR="${HYSDS_STAC_CACHE:-$HOME/.cache/hysds-stac}/services"
BIND_HOST=127.0.0.1

# shellcheck source=../versions.env
source "$SERVICES_DIR/versions.env"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }

# Short stable hash of stdin, used to key cache entries on their inputs.
short_hash() { sha256sum | cut -c1-12; }

pid_file() { echo "$RUN_DIR/$1.pid"; }
port_file() { echo "$RUN_DIR/$1.port"; }
log_file() { echo "$LOG_DIR/$1.log"; }

read_pid() { [[ -s "$(pid_file "$1")" ]] && cat "$(pid_file "$1")"; }
read_port() { [[ -s "$(port_file "$1")" ]] && cat "$(port_file "$1")"; }

pid_alive() {
  local pid
  pid="$(read_pid "$1")" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/$BIND_HOST/$1") 2>/dev/null; }

# pick_free_port BASE [OFFSET [EXCLUDED...]]: first free port at or above BASE
# (scans 20) that is not EXCLUDED and, if OFFSET > 0, whose companion port
# BASE+OFFSET is free too (weed puts each gRPC port at HTTP port + 10000).
# A busy default thus does not stop us; services.env reports the port used.
pick_free_port() {
  local base=$1 offset=${2:-0} p
  shift $(($# < 2 ? $# : 2))
  for ((p = base; p < base + 20; p++)); do
    [[ " $* " == *" $p "* ]] && continue
    port_in_use "$p" && continue
    ((offset > 0)) && port_in_use $((p + offset)) && continue
    echo "$p"
    return 0
  done
  return 1
}

# Reuse the port of the previous run when it is free again, else pick one.
choose_port() {
  local svc=$1 preferred=$2 prev
  prev="$(read_port "$svc" || true)"
  if [[ -n "$prev" ]] && ! port_in_use "$prev"; then echo "$prev"; return 0; fi
  pick_free_port "$preferred" || die "$svc: no free port near $preferred"
}

http_ok() { curl -fsS -m 5 -o /dev/null "$1" 2>/dev/null; }

# Launch a long-running command detached from this shell (own session, no
# stdin), logging to $LOG_DIR/<svc>.log. The child writes its own pid before
# exec'ing, which stays correct whether or not job control is on.
launch() {
  local svc=$1; shift
  local logf pidf
  logf="$(log_file "$svc")"
  pidf="$(pid_file "$svc")"
  rm -f "$pidf"
  : >"$logf"
  # shellcheck disable=SC2016  # $$ and "$@" expand in the child shell
  # 9>&-: do not hand the services.sh lock (fd 9) to a daemon that outlives us.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidf" "$@" >>"$logf" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$pidf" ]] && return 0; sleep 0.1; done
  die "$svc: launcher did not record a pid"
}

# Print why a service failed, the tail of its log(s) and where they are.
report_failure() {
  local svc=$1 reason=$2; shift 2
  {
    echo "[services] FAILED: $svc: $reason"
    local f
    for f in "$@"; do
      [[ -f "$f" ]] || continue
      echo "[services] --- last 30 lines of $f ---"
      tail -n 30 "$f"
    done
    echo "[services] log(s): $*"
  } >&2
}

# wait_ready SVC TIMEOUT CHECK_FN [LOG...]: poll CHECK_FN until it succeeds,
# giving up early if the process died. Prints the failure report on error.
wait_ready() {
  local svc=$1 timeout=$2 check=$3; shift 3
  local t0 deadline
  t0=$(now_s)
  deadline=$((t0 + timeout))
  while (($(now_s) < deadline)); do
    if "$check"; then
      log "$svc: ready (waited $(($(now_s) - t0))s)"
      return 0
    fi
    if ! pid_alive "$svc"; then
      report_failure "$svc" "process exited before becoming ready" "$@"
      return 1
    fi
    sleep 0.5
  done
  report_failure "$svc" "not ready after ${timeout}s" "$@"
  return 1
}

# Stop what launch() started: the recorded pid leads its own process group
# (setsid), so signal the whole group - that also reaches children such as the
# Elasticsearch server JVM under its CLI. TERM first, KILL after a grace period.
stop_pid() {
  local svc=$1 grace=${2:-30} pid i
  pid="$(read_pid "$svc" || true)"
  if [[ -n "$pid" ]] && kill -0 -- "-$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 -- "-$pid" 2>/dev/null; then
      log "$svc: did not stop in ${grace}s, killing"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    log "$svc: stopped (pid $pid)"
  fi
  rm -f "$(pid_file "$svc")"
}

# Base directory for state owned by a system user (postgres, the ES user).
# Normally .run/; if that user cannot reach .run/ (a clone under a private
# home, say) use a per-checkout folder in /var/tmp instead.
user_state_dir() {
  local user=$1 dir
  if runuser -u "$user" -- test -x "$RUN_DIR" 2>/dev/null; then
    dir="$RUN_DIR"
  else
    dir="/var/tmp/hysds-stac-$(printf '%s' "$RUN_DIR" | short_hash)"
    mkdir -p "$dir"
    chmod 755 "$dir"
  fi
  echo "$dir"
}

require_root() {
  [[ $EUID -eq 0 ]] || die "$1 needs root (run as root, or install it beforehand)"
}

# Run apt-get install for the given packages; `apt-get update` first because
# a fresh machine's package lists may be empty or stale.
apt_install() {
  require_root "apt-get install $*"
  log "apt: installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/apt.log" >&2; die "apt-get update failed"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/apt.log" >&2; die "apt-get install $* failed"; }
}

deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Maven with its local repository in the cache, quiet, batch, strict checksums.
mvn_cached() {
  mvn -B -q -C -Dmaven.repo.local="$CACHE_DIR/m2" "$@"
}
# shellcheck disable=SC2034  # used by opensearch.sh and elasticsearch.sh
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# Major version of the java binary at $1/bin/java (empty if none).
java_major() {
  [[ -x "$1/bin/java" ]] || return 1
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | awk -F' = ' '/java.specification.version/ {print $2}'
}
