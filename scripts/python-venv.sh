#!/usr/bin/env bash
# The Python environment of the HySDS hook's tests (integrations/hysds): a venv at
# .cache/python-venv with the pinned test requirements from PyPI. Reinstalled only
# when the requirements change, so a second run costs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/python-venv
reqs=integrations/hysds/requirements-test.txt
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 is required for the HySDS hook's tests (integrations/hysds)" >&2
  exit 1
fi
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$reqs" "$stamp"; then
  echo "== python venv $venv: installing $(tr '\n' ' ' < "$reqs")"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
  cp "$reqs" "$stamp"
fi
