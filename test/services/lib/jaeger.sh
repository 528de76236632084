# shellcheck shell=bash
# Jaeger v2 (optional): the OpenTelemetry collector the tracing test exports to,
# with in-memory storage and its query API. Built from source fetched through
# the Go module proxy (`go install` refuses the module: its go.mod has replace
# directives), cached by version, so only the first start pays the build.
#
# The first build takes minutes (measured: 25 min on a loaded 2-core machine, 2.8 GB
# of module and build cache), too much for every fresh CI run, so by default it is
# only STARTED when a binary is already cached; the tracing test then uses an
# in-process OTLP receiver instead, and says so.
#
# HYSDS_STAC_WITH_JAEGER: unset/auto = start it if built, else skip with a note;
#                         1 = build if needed, and required; 0 = skip.

JAEGER_DEFAULT_OTLP_PORT=4318
JAEGER_DEFAULT_QUERY_PORT=16686

jaeger_mode() {
  case "${HYSDS_STAC_WITH_JAEGER:-auto}" in
    0 | false | no | off) echo off ;;
    1 | true | yes | on) echo required ;;
    *) echo auto ;;
  esac
}

jaeger_bin() { echo "$CACHE_DIR/bin/jaeger-$JAEGER_VERSION"; }

# The Go module and build caches live in our cache dir, not in the user's.
jaeger_go() {
  GOPATH="$CACHE_DIR/go" GOCACHE="$CACHE_DIR/go/build-cache" GOFLAGS=-modcacherw GOTOOLCHAIN=auto "$@"
}

jaeger_install() {
  [[ -x "$(jaeger_bin)" ]] && return 0
  if [[ "$(jaeger_mode)" != required ]]; then
    log "jaeger: not built (HYSDS_STAC_WITH_JAEGER=1 builds it); the tracing test uses an in-process OTLP receiver"
    return 1
  fi
  command -v go >/dev/null 2>&1 || { log "jaeger: no Go toolchain, cannot build it"; return 1; }
  local t0 dir blog="$LOG_DIR/jaeger-build.log"
  t0=$(now_s)
  log "jaeger: building $JAEGER_VERSION from the Go module proxy (first time only; minutes)"
  dir="$(jaeger_go go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" 2>"$blog" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "$dir" ]]; then
    report_failure jaeger "module download failed" "$blog"
    return 1
  fi
  mkdir -p "$CACHE_DIR/bin"
  # nice: the build takes both cores for minutes on a shared machine.
  if ! (cd "$dir" && jaeger_go nice -n 19 go build -trimpath -o "$(jaeger_bin).tmp" ./cmd/jaeger) >>"$blog" 2>&1; then
    report_failure jaeger "build failed" "$blog"
    return 1
  fi
  mv "$(jaeger_bin).tmp" "$(jaeger_bin)"
  log "jaeger: built in $(($(now_s) - t0))s"
}

jaeger_config() {
  local otlp=$1 query=$2 grpc=$3 health=$4
  cat <<EOF
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: $BIND_HOST:$health
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 20000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: $BIND_HOST:$query
    grpc:
      endpoint: $BIND_HOST:$grpc
receivers:
  otlp:
    protocols:
      http:
        endpoint: $BIND_HOST:$otlp
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
}

jaeger_ready() {
  local query
  query="$(read_port jaeger)" || return 1
  http_ok "http://$BIND_HOST:$query/api/services"
}

jaeger_start() {
  if pid_alive jaeger; then log "jaeger: already running"; return 0; fi
  [[ -x "$(jaeger_bin)" ]] || return 1
  mkdir -p "$RUN_DIR/jaeger"
  local otlp query grpc health
  otlp="$(pick_free_port "$JAEGER_DEFAULT_OTLP_PORT")" || die "jaeger: no free OTLP port"
  query="$(pick_free_port "$JAEGER_DEFAULT_QUERY_PORT" 0 "$otlp")" || die "jaeger: no free query port"
  grpc="$(pick_free_port 16685 0 "$otlp" "$query")" || die "jaeger: no free query gRPC port"
  health="$(pick_free_port 13133 0 "$otlp" "$query" "$grpc")" || die "jaeger: no free health port"
  echo "$query" >"$(port_file jaeger)"
  echo "$otlp" >"$RUN_DIR/jaeger/otlp.port"
  jaeger_config "$otlp" "$query" "$grpc" "$health" >"$RUN_DIR/jaeger/config.yaml"
  launch jaeger "$(jaeger_bin)" --config "$RUN_DIR/jaeger/config.yaml"
}

jaeger_wait() { wait_ready jaeger 60 jaeger_ready "$(log_file jaeger)"; }

jaeger_stop() { stop_pid jaeger 10; }

jaeger_env() {
  cat <<EOF
OTLP_URL=http://$BIND_HOST:$(cat "$RUN_DIR/jaeger/otlp.port")
JAEGER_QUERY_URL=http://$BIND_HOST:$(read_port jaeger)
JAEGER_VERSION=$JAEGER_VERSION
EOF
}

jaeger_url() { echo "http://$BIND_HOST:$(read_port jaeger) (OTLP http://$BIND_HOST:$(cat "$RUN_DIR/jaeger/otlp.port" 2>/dev/null))"; }
