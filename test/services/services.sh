#!/usr/bin/env bash
# Real backing services for hysds-stac tests, on 127.0.0.1 only:
#   S3 (SeaweedFS), OpenSearch, PostgreSQL+PostGIS with the STAC API
#   (stac-fastapi-pgstac), a second STAC API on OpenSearch
#   (stac-fastapi-opensearch), and optionally Elasticsearch and Jaeger.
#
# Usage: test/services/services.sh install|start|status|stop|env|smoke|clean
# See test/services/README.md.
set -euo pipefail

LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$LIB/common.sh"
source "$LIB/python.sh"
source "$LIB/s3.sh"
source "$LIB/opensearch.sh"
source "$LIB/elasticsearch.sh"
source "$LIB/postgres.sh"
source "$LIB/stac.sh"
source "$LIB/sfeos.sh"
source "$LIB/jaeger.sh"

ALL_SERVICES=(s3 opensearch elasticsearch postgres stac sfeos jaeger)
ENABLED_FILE="$RUN_DIR/enabled"

usage() {
  cat >&2 <<EOF
usage: $0 <command>
  install  fetch pinned versions into $CACHE_DIR (idempotent)
  start    install if needed, start everything, wait until ready, write $ENV_FILE
  status   one line per service; exit 1 if any is down
  stop     stop everything started from this checkout
  env      print $ENV_FILE
  smoke    signed S3 round trip, OpenSearch/Elasticsearch index+search, STAC CRUD
  clean    stop, then delete runtime data and logs (keeps the cache)
environment:
  HYSDS_STAC_CACHE    cache root (default \$HOME/.cache/hysds-stac)
  HYSDS_STAC_WITH_ES  auto (default: start, warn on failure) | 1 (required) | 0 (skip)
  HYSDS_STAC_WITH_JAEGER  auto (default: start if already built) | 1 (build with Go if needed; required) | 0 (skip)
  HYSDS_STAC_PYTHON   Python interpreter for the services venv
EOF
  exit 2
}

# Serialise commands from concurrent callers (two test runs, say) per checkout.
take_lock() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$CACHE_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 900 9 || die "another services.sh command holds $RUN_DIR/.lock"
}

cmd_install() {
  local t0
  t0=$(now_s)
  py_install
  sfeos_install
  os_install
  [[ "$(es_mode)" == off ]] || es_install
  pg_install
  if [[ "$(jaeger_mode)" == required ]] && ! jaeger_install; then
    die "jaeger: required (HYSDS_STAC_WITH_JAEGER=1) but it could not be built"
  elif [[ "$(jaeger_mode)" == auto ]]; then
    jaeger_install || true
  fi
  log "install: done in $(($(now_s) - t0))s (cache: $CACHE_DIR)"
}

svc_ready() {
  case "$1" in
    s3) pid_alive s3 && s3_ready ;;
    opensearch) pid_alive opensearch && os_ready ;;
    elasticsearch) pid_alive elasticsearch && es_ready ;;
    postgres) pg_ready ;;
    stac) pid_alive stac && stac_ready ;;
    sfeos) pid_alive sfeos && sfeos_ready ;;
    jaeger) pid_alive jaeger && jaeger_ready ;;
  esac
}

svc_url() {
  case "$1" in
    s3) s3_url ;;
    opensearch) os_url ;;
    elasticsearch) es_url ;;
    postgres) echo "postgresql://$PG_DB_USER@$BIND_HOST:$(read_port postgres)/$PG_DB_NAME" ;;
    stac) stac_url ;;
    sfeos) sfeos_url ;;
    jaeger) jaeger_url ;;
  esac
}

write_env_file() {
  local enabled=("$@") tmp="$ENV_FILE.tmp"
  {
    echo "# Written by test/services/services.sh start on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    s3_env
    os_env
    if [[ " ${enabled[*]} " == *" elasticsearch "* ]]; then es_env; fi
    stac_env
    sfeos_env
    pg_env
    if [[ " ${enabled[*]} " == *" jaeger "* ]]; then jaeger_env; fi
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

cmd_start() {
  local t0 mode failed=() enabled=(s3 opensearch postgres stac sfeos)
  t0=$(now_s)
  cmd_install
  mode="$(es_mode)"
  [[ "$mode" == off ]] || enabled+=(elasticsearch)
  rm -f "$ENV_FILE"

  # Launch everything first (the JVMs take the longest), then wait in turn.
  s3_start
  os_start
  local es_launched=0
  if [[ "$mode" != off ]] && es_start; then es_launched=1; fi
  local pg_ok=1
  pg_start || pg_ok=0
  local jaeger_launched=0
  if [[ "$(jaeger_mode)" != off ]] && jaeger_start; then jaeger_launched=1; fi

  s3_wait || failed+=(s3)
  if ((pg_ok)) && pg_wait; then
    { stac_start && stac_wait; } || failed+=(stac)
  else
    log "stac: not started because postgres is down"
    failed+=(postgres stac)
  fi
  if os_wait; then
    { sfeos_start && sfeos_wait; } || failed+=(sfeos)
  else
    log "sfeos: not started because opensearch is down"
    failed+=(opensearch sfeos)
  fi
  if [[ "$mode" != off ]] && ! { ((es_launched)) && es_wait; }; then
    if [[ "$mode" == required ]]; then
      failed+=(elasticsearch)
    else
      log "elasticsearch: optional and failed to start; continuing without it (HYSDS_STAC_WITH_ES=1 makes this fatal)"
      es_stop
      enabled=("${enabled[@]/elasticsearch/}")
    fi
  fi

  if [[ "$(jaeger_mode)" != off ]]; then
    if ((jaeger_launched)) && jaeger_wait; then
      enabled+=(jaeger)
    elif [[ "$(jaeger_mode)" == required ]]; then
      failed+=(jaeger)
    else
      log "jaeger: optional and not running; continuing without it (HYSDS_STAC_WITH_JAEGER=1 makes this fatal)"
      jaeger_stop
    fi
  fi

  printf '%s\n' "${enabled[@]}" | sed '/^$/d' >"$ENABLED_FILE"
  if ((${#failed[@]})); then
    die "start failed for: ${failed[*]} (logs in $LOG_DIR)"
  fi
  write_env_file "${enabled[@]}"
  log "start: all up in $(($(now_s) - t0))s; endpoints in $ENV_FILE"
}

cmd_status() {
  local rc=0 svc enabled
  # Before any start, expect what a start would bring up.
  enabled="$(cat "$ENABLED_FILE" 2>/dev/null || echo "s3 opensearch postgres stac sfeos")"
  [[ -f "$ENABLED_FILE" || "$(es_mode)" == off ]] || enabled+=" elasticsearch"
  for svc in "${ALL_SERVICES[@]}"; do
    if ! grep -qw "$svc" <<<"$enabled"; then
      printf '%-14s off (optional)\n' "$svc"
    elif svc_ready "$svc"; then
      printf '%-14s up    %s\n' "$svc" "$(svc_url "$svc")"
    else
      printf '%-14s down\n' "$svc"
      rc=1
    fi
  done
  return $rc
}

cmd_stop() {
  # In parallel: each waits for its own graceful shutdown (JVMs, weed: seconds).
  rm -f "$ENV_FILE"
  stac_stop &
  sfeos_stop &
  pg_stop &
  es_stop &
  os_stop &
  s3_stop &
  jaeger_stop &
  wait
  rm -f "$ENABLED_FILE"
}

cmd_env() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE missing: run '$0 start' first"
  cat "$ENV_FILE"
}

cmd_smoke() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE missing: run '$0 start' first"
  py_resolve
  "$VENV_DIR/bin/python" "$SERVICES_DIR/smoke.py" "$ENV_FILE"
}

cmd_clean() {
  cmd_stop
  local d
  for d in "$(user_state_dir "$PG_OS_USER")" "$(user_state_dir "$ES_OS_USER" 2>/dev/null || true)"; do
    [[ -n "$d" && "$d" != "$RUN_DIR" ]] && rm -rf "$d"
  done
  # Keep the lock file open by this process; remove everything else.
  find "$RUN_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
  log "clean: removed runtime data in $RUN_DIR"
}

main() {
  [[ $# -eq 1 ]] || usage
  case "$1" in
    install) take_lock; cmd_install ;;
    start) take_lock; cmd_start ;;
    stop) take_lock; cmd_stop ;;
    clean) take_lock; cmd_clean ;;
    status) mkdir -p "$RUN_DIR"; cmd_status ;;
    env) cmd_env ;;
    smoke) cmd_smoke ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
