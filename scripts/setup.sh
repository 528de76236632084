#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: the pinned Bun (from the npm
# registry; its binary ships in the package) and the locked packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN_VERSION=$(sed -n 's/.*"packageManager": *"bun@\([0-9.]*\)".*/\1/p' package.json)
if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "== installing bun $BUN_VERSION from npm"
  npm install -g --allow-scripts=bun "bun@$BUN_VERSION" >/dev/null
fi
echo "== bun $(bun --version): installing packages"
bun install --frozen-lockfile
bash scripts/build-cli.sh
bash scripts/python-venv.sh
