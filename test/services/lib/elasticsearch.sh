# shellcheck shell=bash
# Elasticsearch (optional): the minimal integ-test-zip distribution from Maven
# Central. Modules: transport-netty4, x-pack-core, x-pack-security, apm only -
# so no painless scripts and no geo_shape mapping. It refuses to run as root,
# so it runs as a dedicated system user.
#
# HYSDS_STAC_WITH_ES: unset/auto = start it, but only warn if it fails;
#                     1 = required (start fails if it fails); 0 = skip.

ES_DEFAULT_PORT=9250
ES_DEFAULT_TRANSPORT_PORT=9350
ES_OS_USER=hysds-stac-es
ES_HEAP=1g

es_mode() {
  case "${HYSDS_STAC_WITH_ES:-auto}" in
    0 | false | no | off) echo off ;;
    1 | true | yes | on) echo required ;;
    *) echo auto ;;
  esac
}

# Maven keeps the zip in its local repository: use it from there.
es_zip() {
  echo "$CACHE_DIR/m2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ELASTICSEARCH_VERSION/elasticsearch-$ELASTICSEARCH_VERSION.zip"
}
es_state() { echo "$(user_state_dir "$ES_OS_USER")/elasticsearch"; }
es_home() { echo "$(es_state)/home-$ELASTICSEARCH_VERSION"; }

es_ensure_user() {
  id -u "$ES_OS_USER" >/dev/null 2>&1 && return 0
  require_root "creating the $ES_OS_USER system user"
  log "elasticsearch: creating system user $ES_OS_USER"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$ES_OS_USER"
}

es_install() {
  es_ensure_user
  [[ -s "$(es_zip)" ]] && return 0
  log "elasticsearch: downloading integ-test-zip $ELASTICSEARCH_VERSION from Maven Central"
  local mlog="$LOG_DIR/maven-elasticsearch.log"
  if ! (cd "$CACHE_DIR" && mvn_cached "$MAVEN_DEPENDENCY_PLUGIN:get" -Dtransitive=false \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ELASTICSEARCH_VERSION:zip" \
    >"$mlog" 2>&1) || [[ ! -s "$(es_zip)" ]]; then
    tail -n 30 "$mlog" >&2
    die "elasticsearch: download failed (log: $mlog)"
  fi
}

# Unpack the distribution next to its data: the cache under root's home is
# not readable by the service user.
es_unpack() {
  local home
  home="$(es_home)"
  [[ -x "$home/bin/elasticsearch" ]] && return 0
  log "elasticsearch: unpacking into $home"
  local tmp="$home.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  unzip -q "$(es_zip)" -d "$tmp"
  mv "$tmp/elasticsearch-$ELASTICSEARCH_VERSION" "$home"
  rm -rf "$tmp"
}

es_write_config() {
  local state=$1 port=$2 tport=$3
  local conf="$state/config"
  if [[ ! -f "$conf/jvm.options" ]]; then
    mkdir -p "$conf"
    cp -r "$(es_home)/config/." "$conf/"
  fi
  # Single node, loopback only, no TLS/auth, no disk watermarks.
  cat >"$conf/elasticsearch.yml" <<EOF
cluster.name: hysds-stac-es
node.name: es1
network.host: $BIND_HOST
http.port: $port
transport.port: $tport
discovery.type: single-node
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
path.data: $state/data
path.logs: $state/logs
EOF
}

es_ready() {
  local port
  port="$(read_port elasticsearch)" || return 1
  http_ok "http://$BIND_HOST:$port/_cluster/health?wait_for_status=yellow&timeout=1s"
}

es_start() {
  if pid_alive elasticsearch; then log "elasticsearch: already running"; return 0; fi
  [[ -s "$(es_zip)" ]] || es_install
  es_ensure_user
  es_unpack
  local state port tport
  state="$(es_state)"
  port="$(choose_port elasticsearch "$ES_DEFAULT_PORT")"
  tport="$(pick_free_port "$ES_DEFAULT_TRANSPORT_PORT")" || die "elasticsearch: no free transport port"
  echo "$port" >"$(port_file elasticsearch)"
  mkdir -p "$state/data" "$state/logs" "$state/tmp"
  es_write_config "$state" "$port" "$tport"
  chown -R "$ES_OS_USER:" "$state"
  # No heap pre-touch: it slows startup and pins 1 GiB for no gain in tests.
  # (Class-data sharing does not help here: ES patches java.base, which turns CDS off.)
  # setpriv execs in place (no forking su/runuser in between), so the pid
  # launch() records leads the process group of the CLI and server JVMs.
  # Run from the state dir: jvm.options writes gc.log relative to the cwd.
  (cd "$state" && launch elasticsearch setpriv --reuid="$ES_OS_USER" --regid="$ES_OS_USER" --init-groups \
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$state" \
    ES_JAVA_HOME="$JAVA17_HOME" ES_PATH_CONF="$state/config" ES_TMPDIR="$state/tmp" \
    ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP -XX:-AlwaysPreTouch" \
    "$(es_home)/bin/elasticsearch")
}

es_wait() {
  wait_ready elasticsearch 120 es_ready "$(log_file elasticsearch)" "$(es_state)/logs/hysds-stac-es.log"
}

es_stop() { stop_pid elasticsearch 30; }

es_env() {
  echo "ELASTICSEARCH_URL=http://$BIND_HOST:$(read_port elasticsearch)"
  echo "ELASTICSEARCH_VERSION=$ELASTICSEARCH_VERSION"
}

es_url() { echo "http://$BIND_HOST:$(read_port elasticsearch)"; }
