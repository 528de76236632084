#!/usr/bin/env bash
# Builds the `hysds-stac` executable: one self-contained file (the Bun runtime and
# every package inside it) at dist/bin/hysds-stac, gitignored. Job workers run this
# file itself, so a signal or a kill reaches the ingest, not a `bun run` wrapper
# that would leave the real ingest running as an orphan.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/bin/hysds-stac
mkdir -p "$(dirname "$out")"
bun build --compile packages/cli/src/bin.ts --outfile "$out.tmp" >/dev/null
mv -f "$out.tmp" "$out"
echo "== built $out, version $("$out" --version 2>/dev/null | head -1 || true)"
