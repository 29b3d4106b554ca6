#!/usr/bin/env bash
# Builds the playground (release wasm) and serves it on http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$GRADSCOPE_ROOT/scripts/setup.sh"
source "$GRADSCOPE_ROOT/scripts/env.sh"
cd "$GRADSCOPE_ROOT"
# No autoreload: trunk injects it as an inline script, which the pages' own Content-Security-Policy
# (a meta tag, as on a static host) refuses. Reload by hand after an edit.
exec trunk serve --release --no-autoreload --port "${PORT:-8080}" --address 127.0.0.1 "$@"
