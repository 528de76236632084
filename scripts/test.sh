#!/usr/bin/env bash
# The whole test suite: unit, workflow, crash, end-to-end and integration tests.
# Starts the real test services first (installing them on a first run; see
# test/services/README.md) unless HYSDS_STAC_SERVICES=0, in which case the
# integration tests are skipped and say so. Ends with the plain
# "N passed, N failed" line CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${HYSDS_STAC_SERVICES:-1}" != "0" ]; then
  echo "== starting test services (test/services/services.sh start)"
  bash test/services/services.sh start || { echo "test services failed to start; see the log paths above" >&2; exit 1; }
  export HYSDS_STAC_REQUIRE_SERVICES=1
fi
started=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bun test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
echo "== tests took $(( $(date +%s) - started )) s"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
