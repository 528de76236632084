#!/usr/bin/env bash
# The whole test suite: unit, workflow, crash, end-to-end and integration tests,
# then the HySDS hook's pytest suite (integrations/hysds) against the compiled
# executable, rebuilt first so it matches the source (skipped when paths are given
# or with HYSDS_STAC_PYTEST=0).
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
if [ $# -eq 0 ] && [ "${HYSDS_STAC_PYTEST:-1}" != "0" ]; then
  echo "== HySDS hook tests (pytest, integrations/hysds)"
  pylog=$(mktemp)
  trap 'rm -f "$log" "$pylog"' EXIT
  { bash scripts/build-cli.sh && bash scripts/python-venv.sh; } 2>&1 | tee "$pylog"
  pystatus=${PIPESTATUS[0]}
  if [ "$pystatus" -eq 0 ]; then
    (cd integrations/hysds && ../../.cache/python-venv/bin/python -m pytest -q -p no:cacheprovider) 2>&1 | tee "$pylog"
    pystatus=${PIPESTATUS[0]}
  fi
  # pytest's closing line: "N passed, N failed, N errors in Ts"
  pypassed=$(tail -1 "$pylog" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^passed/) n += $(i-1)} END {print n + 0}')
  pyfailed=$(tail -1 "$pylog" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(failed|error)/) n += $(i-1)} END {print n + 0}')
  # pytest's 5 (no test collected) is a failure here: the suite must run.
  if [ "$pystatus" -ne 0 ] || [ "${pypassed:-0}" -eq 0 ]; then
    [ "$status" -eq 0 ] && status=1
    [ "${pyfailed:-0}" -eq 0 ] && pyfailed=1
  fi
  passed=$(( ${passed:-0} + ${pypassed:-0} ))
  failed=$(( ${failed:-0} + ${pyfailed:-0} ))
fi
echo "== tests took $(( $(date +%s) - started )) s"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
