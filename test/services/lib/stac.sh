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
  mkdir -p "$RUN_DIR/stac"
  local -a env_vars
  mapfile -t env_vars < <(pg_env)
  # uvicorn directly: `python -m stac_fastapi.pgstac.app` (7.2.0) ignores
  # APP_HOST/APP_PORT and binds 0.0.0.0:8000. A clean environment and an empty
  # working directory keep stray variables or a .env file from changing
  # settings (pydantic-settings reads both).
  (cd "$RUN_DIR/stac" && launch stac env -i \
    PATH="$VENV_DIR/bin:/usr/bin:/bin" HOME="$HOME" LANG=C.UTF-8 \
    "${env_vars[@]}" \
    ENABLE_TRANSACTIONS_EXTENSIONS=true \
    "$VENV_DIR/bin/uvicorn" stac_fastapi.pgstac.app:create_app --factory \
    --host "$BIND_HOST" --port "$port" --log-level info)
}

stac_wait() { wait_ready stac 60 stac_ready "$(log_file stac)"; }

stac_stop() { stop_pid stac 15; }

stac_env() {
  echo "STAC_API_URL=http://$BIND_HOST:$(read_port stac)"
  echo "PGSTAC_VERSION=$PYPGSTAC_VERSION"
}

stac_url() { echo "http://$BIND_HOST:$(read_port stac)"; }
