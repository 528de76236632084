# shellcheck shell=bash
# STAC API: stac-fastapi-pgstac under uvicorn, backed by the postgres service.

STAC_DEFAULT_PORT=8081

stac_install() { py_install; }

stac_ready() {
  local port
  port="$(read_port stac)" || return 1
  http_ok "http://$BIND_HOST:$port/_mgmt/ping" || return 1
  # Transactions must be on, or the adapter's writes would 404/405.
  curl -fsS -m 5 "http://$BIND_HOST:$port/conformance" 2>/dev/null | grep -q '/extensions/transaction'
}

stac_start() {
  if pid_alive stac; then log "stac: already running"; return 0; fi
  pg_prepare_pgstac || return 1
  py_resolve
  local port
  port="$(choose_port stac "$STAC_DEFAULT_PORT")"
  echo "$port" >"$(port_file stac)"
  local -a env_vars
  mapfile -t env_vars < <(pg_env)
  launch_uvicorn stac "$VENV_DIR" stac_fastapi.pgstac.app:create_app "$port" \
    "${env_vars[@]}" ENABLE_TRANSACTIONS_EXTENSIONS=true
}

stac_wait() { wait_ready stac 60 stac_ready "$(log_file stac)"; }

stac_stop() { stop_pid stac 15; }

stac_env() {
  echo "STAC_API_URL=http://$BIND_HOST:$(read_port stac)"
  echo "PGSTAC_VERSION=$PYPGSTAC_VERSION"
}

stac_url() { echo "http://$BIND_HOST:$(read_port stac)"; }
