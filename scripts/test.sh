#!/usr/bin/env bash
# The whole test suite: unit, workflow, crash, end-to-end and integration tests,
# and the HySDS hook's pytest suite (integrations/hysds, skipped with
# HYSDS_STAC_PYTEST=0), all against the compiled executable, rebuilt first so it
# matches the source.
# Starts the real test services first (installing them on a first run; see
# test/services/README.md) unless HYSDS_STAC_SERVICES=0, in which case the
# integration tests are skipped and say so. Ends with the plain
# "N passed, N failed" line CI reads.
#
# Test files run as separate `bun test` processes, HYSDS_STAC_TEST_JOBS at a
# time (default 3), next to the pytest suite: most of the suite waits on the
# services, not the CPU, so a few files at once cut the wall time on a 2-core
# machine without trimming any matrix. Slow directories start first so the
# tail is short. With arguments, they go to one plain `bun test` instead (a
# single file or a filter) and pytest is skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${HYSDS_STAC_SERVICES:-1}" != "0" ]; then
  echo "== starting test services (test/services/services.sh start)"
  bash test/services/services.sh start || { echo "test services failed to start; see the log paths above" >&2; exit 1; }
  export HYSDS_STAC_REQUIRE_SERVICES=1
fi
started=$(date +%s)
# The tests start the compiled executable, as job workers run it (test/support/State.ts
# CLI): rebuilt here so it matches the source, and 4x quicker to start than the source.
bash scripts/build-cli.sh || { echo "could not build the CLI executable (scripts/build-cli.sh)" >&2; exit 1; }
export HYSDS_STAC_CLI=$PWD/dist/bin/hysds-stac
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

count() { # count <pass|fail> <log>: bun's own summary line of one run
  grep -Eo "^ *[0-9]+ $1\$" "$2" | tail -1 | grep -Eo '[0-9]+' || echo 0
}

if [ "$#" -gt 0 ]; then
  bun test --timeout 120000 "$@" 2>&1 | tee "$logs/all.log"
  status=${PIPESTATUS[0]}
  passed=$(count pass "$logs/all.log")
  failed=$(count fail "$logs/all.log")
  pytest=0
else
  pytest=$([ "${HYSDS_STAC_PYTEST:-1}" != "0" ] && echo 1 || echo 0)
  if [ "$pytest" = 1 ]; then
    echo "== HySDS hook tests (pytest, integrations/hysds), next to the Bun tests"
    pylog=$logs/pytest.log
    (
      bash scripts/python-venv.sh >"$pylog" 2>&1 &&
        (cd integrations/hysds && ../../.cache/python-venv/bin/python -m pytest -q -p no:cacheprovider) >>"$pylog" 2>&1
      echo $? >"$pylog.rc"
    ) &
    pypid=$!
  fi
  # Slowest groups first (the crash matrices and real-server suites), then the rest.
  mapfile -t files < <(
    git ls-files '*.test.ts' |
      awk '{ w = ($0 ~ /^test\/(crash|integration)\//) ? 0 : ($0 ~ /^test\//) ? 1 : 2; print w "\t" $0 }' |
      sort -k1,1n -k2 | cut -f2
  )
  echo "== ${#files[@]} test files, ${HYSDS_STAC_TEST_JOBS:-3} at a time"
  printf '%s\n' "${files[@]}" | xargs -P "${HYSDS_STAC_TEST_JOBS:-3}" -I{} bash -c '
    f=$1; log=$2/$(printf %s "$f" | tr / _).log; t0=$(date +%s)
    bun test --timeout 120000 "./$f" >"$log" 2>&1; rc=$?
    echo "$rc $(( $(date +%s) - t0 ))" >"$log.rc"
    printf "   %-60s %s (%ss)\n" "$f" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - t0 ))"
  ' _ {} "$logs"
  passed=0 failed=0 status=0
  for f in "${files[@]}"; do
    log=$logs/$(printf %s "$f" | tr / _).log
    read -r rc secs <"$log.rc"
    p=$(count pass "$log"); n=$(count fail "$log")
    # A run that died without its summary still counts as a failure.
    if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi
    passed=$((passed + p)); failed=$((failed + n))
    if [ "$rc" -ne 0 ]; then
      status=1
      echo "== FAILED: $f (exit $rc, ${secs}s)"
      cat "$log"
    fi
  done
fi
if [ "$pytest" = 1 ]; then
  wait "$pypid"
  pystatus=$(cat "$pylog.rc" 2>/dev/null || echo 1)
  echo "== pytest (integrations/hysds): exit $pystatus"
  tail -5 "$pylog"
  # pytest's closing line: "N passed, N failed, N errors in Ts"
  pypassed=$(tail -1 "$pylog" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^passed/) n += $(i-1)} END {print n + 0}')
  pyfailed=$(tail -1 "$pylog" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(failed|error)/) n += $(i-1)} END {print n + 0}')
  # pytest's 5 (no test collected) is a failure here: the suite must run.
  if [ "$pystatus" -ne 0 ] || [ "${pypassed:-0}" -eq 0 ]; then
    [ "$pystatus" -ne 0 ] && cat "$pylog"
    status=1
    [ "${pyfailed:-0}" -eq 0 ] && pyfailed=1
  fi
  passed=$(( passed + ${pypassed:-0} ))
  failed=$(( failed + ${pyfailed:-0} ))
fi
echo "== tests took $(( $(date +%s) - started )) s"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
