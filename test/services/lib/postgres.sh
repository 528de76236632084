# shellcheck shell=bash
# PostgreSQL + PostGIS from Debian, as a private cluster (not the Debian
# "main" cluster) on a non-default port, run as the `postgres` OS user since
# the server refuses to run as root.

PG_DEFAULT_PORT=5439
PG_OS_USER=postgres
# Test-only credentials; tests read them from services.env.
PG_DB_USER=postgres
PG_DB_PASSWORD=hysdsstac
PG_DB_NAME=pgstac

pg_bin() { echo "/usr/lib/postgresql/$PG_MAJOR/bin"; }
pg_packages() { echo "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-$POSTGIS_MAJOR"; }
pg_datadir() { echo "$(user_state_dir "$PG_OS_USER")/pg/data"; }
pg_as_owner() { runuser -u "$PG_OS_USER" -- "$@"; }

pg_install() {
  local missing=() pkg
  for pkg in $(pg_packages); do deb_installed "$pkg" || missing+=("$pkg"); done
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  py_install  # pypgstac, used to migrate the schema
}

# initdb once per checkout. Settings favour test speed over durability.
pg_init() {
  local data pw
  data="$(pg_datadir)"
  [[ -f "$data/PG_VERSION" ]] && return 0
  log "postgres: initdb $data"
  mkdir -p "$(dirname "$data")"
  chown "$PG_OS_USER:" "$(dirname "$data")"
  chmod 700 "$(dirname "$data")"
  pw="$(dirname "$data")/pwfile"
  echo "$PG_DB_PASSWORD" >"$pw"
  chown "$PG_OS_USER:" "$pw"
  if ! pg_as_owner "$(pg_bin)/initdb" -D "$data" -U "$PG_DB_USER" --pwfile="$pw" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb.log" 2>&1; then
    rm -f "$pw"
    report_failure postgres "initdb failed" "$LOG_DIR/initdb.log"
    return 1
  fi
  rm -f "$pw"
  cat >>"$data/postgresql.conf" <<EOF

# hysds-stac test cluster
listen_addresses = '$BIND_HOST'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

pg_running() { pg_as_owner "$(pg_bin)/pg_ctl" status -D "$(pg_datadir)" >/dev/null 2>&1; }

pg_ready() {
  local port
  port="$(read_port postgres)" || return 1
  "$(pg_bin)/pg_isready" -q -h "$BIND_HOST" -p "$port"
}

pg_start() {
  if pg_running; then
    log "postgres: already running"
    head -n1 "$(pg_datadir)/postmaster.pid" >"$(pid_file postgres)"
    return 0
  fi
  pg_init
  local port logf
  port="$(choose_port postgres "$PG_DEFAULT_PORT")"
  echo "$port" >"$(port_file postgres)"
  # The server writes its log as the postgres user, who may not reach .run/
  # (a clone under a private temp dir): keep it beside the data dir, which
  # that user owns, and link it where the other services' logs are.
  logf="$(dirname "$(pg_datadir)")/postgres.log"
  : >"$logf"
  chown "$PG_OS_USER:" "$logf"
  ln -sfn "$logf" "$(log_file postgres)"
  # -w: pg_ctl itself waits for the server to accept connections (~1 s).
  if ! pg_as_owner "$(pg_bin)/pg_ctl" start -D "$(pg_datadir)" -l "$logf" -w -t 60 \
    -o "-p $port" >"$LOG_DIR/pg_ctl.log" 2>&1 9>&-; then
    report_failure postgres "pg_ctl start failed" "$LOG_DIR/pg_ctl.log" "$logf"
    return 1
  fi
  head -n1 "$(pg_datadir)/postmaster.pid" >"$(pid_file postgres)"
}

pg_wait() { wait_ready postgres 60 pg_ready "$(log_file postgres)"; }

pg_stop() {
  if pg_running; then
    pg_as_owner "$(pg_bin)/pg_ctl" stop -D "$(pg_datadir)" -m fast -w -t 60 >/dev/null \
      && log "postgres: stopped"
  fi
  rm -f "$(pid_file postgres)"
}

# libpq variables, used by psql, pypgstac and stac-fastapi-pgstac alike.
pg_env() {
  cat <<EOF
PGHOST=$BIND_HOST
PGPORT=$(read_port postgres)
PGUSER=$PG_DB_USER
PGPASSWORD=$PG_DB_PASSWORD
PGDATABASE=$PG_DB_NAME
EOF
}

# Create the database if needed and bring the pgstac schema to PYPGSTAC_VERSION
# (pypgstac migrate is idempotent and takes about a second).
pg_prepare_pgstac() {
  local -a env_vars
  mapfile -t env_vars < <(pg_env)
  if ! env "${env_vars[@]}" PGDATABASE=postgres "$(pg_bin)/psql" -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB_NAME'" | grep -q 1; then
    env "${env_vars[@]}" PGDATABASE=postgres "$(pg_bin)/createdb" "$PG_DB_NAME"
  fi
  py_resolve
  if ! env "${env_vars[@]}" "$VENV_DIR/bin/pypgstac" migrate >"$LOG_DIR/pgstac-migrate.log" 2>&1; then
    report_failure stac "pypgstac migrate failed" "$LOG_DIR/pgstac-migrate.log"
    return 1
  fi
}
