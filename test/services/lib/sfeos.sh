# shellcheck shell=bash
# Second STAC API: stac-fastapi-opensearch ("SFEOS") under uvicorn, on the
# opensearch service, in a venv of its own. Its indexes carry their own prefix
# so they never meet GRQ's `grq_*` indexes on the same cluster.
#
# DATABASE_REFRESH is left at its default (false), as most deployments run it:
# the adapter makes its writes visible itself (see packages/adapters/src/
# stac-api/Flavor.ts), and the tests must prove that it does.

SFEOS_DEFAULT_PORT=8091
SFEOS_COLLECTIONS_INDEX=hysds_stac_sfeos_collections
SFEOS_ITEMS_INDEX_PREFIX=hysds_stac_sfeos_items_

SFEOS_REQUIREMENTS=("stac-fastapi-opensearch==$STAC_FASTAPI_OPENSEARCH_VERSION")

# Sets SFEOS_VENV_DIR (hash of the interpreter and the pins, as py_resolve).
sfeos_resolve() {
  [[ -n "${SFEOS_VENV_DIR:-}" ]] && return 0
  [[ -n "${PYTHON_BIN:-}" ]] || PYTHON_BIN="$(pick_python)"
  local key
  key="$({ "$PYTHON_BIN" -c 'import sys; print(sys.version)'; printf '%s\n' "${SFEOS_REQUIREMENTS[@]}"; echo "$SFEOS_PY_CONSTRAINTS"; } | short_hash)"
  SFEOS_VENV_DIR="$CACHE_DIR/venv-sfeos-$key"
}

sfeos_install() {
  sfeos_resolve
  venv_build "$SFEOS_VENV_DIR" pip-sfeos.log "$SFEOS_PY_CONSTRAINTS" "${SFEOS_REQUIREMENTS[@]}"
}

sfeos_ready() {
  local port
  port="$(read_port sfeos)" || return 1
  http_ok "http://$BIND_HOST:$port/_mgmt/ping" || return 1
  curl -fsS -m 5 "http://$BIND_HOST:$port/conformance" 2>/dev/null | grep -q '/extensions/transaction'
}

sfeos_start() {
  if pid_alive sfeos; then log "sfeos: already running"; return 0; fi
  sfeos_resolve
  local port os_port
  os_port="$(read_port opensearch)" || { log "sfeos: opensearch has no port"; return 1; }
  port="$(choose_port sfeos "$SFEOS_DEFAULT_PORT")"
  echo "$port" >"$(port_file sfeos)"
  # Transactions and bulk transactions are on by default in 8.0.0; said
  # explicitly so a changed default is noticed.
  launch_uvicorn sfeos "$SFEOS_VENV_DIR" stac_fastapi.opensearch.app:create_app "$port" \
    ES_HOST="$BIND_HOST" ES_PORT="$os_port" ES_USE_SSL=false ES_VERIFY_CERTS=false \
    STAC_COLLECTIONS_INDEX="$SFEOS_COLLECTIONS_INDEX" \
    STAC_ITEMS_INDEX_PREFIX="$SFEOS_ITEMS_INDEX_PREFIX" \
    ENABLE_TRANSACTIONS_EXTENSIONS=true
}

sfeos_wait() { wait_ready sfeos 90 sfeos_ready "$(log_file sfeos)"; }

sfeos_stop() { stop_pid sfeos 15; }

sfeos_env() {
  echo "SFEOS_STAC_API_URL=http://$BIND_HOST:$(read_port sfeos)"
  echo "SFEOS_VERSION=$STAC_FASTAPI_OPENSEARCH_VERSION"
}

sfeos_url() { echo "http://$BIND_HOST:$(read_port sfeos)"; }
