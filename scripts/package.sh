#!/usr/bin/env bash
# Packs what a release publishes into release/ (the release workflow runs it; CI runs the CLI
# half to check it):
#   scripts/package.sh cli     the `gradscope` binary for this machine's architecture, with the
#                              README and the sweep presets: release/gradscope-ARCH-linux.tar.gz
#                              (a fixed name, so .../releases/latest/download/NAME always works),
#                              and its .sha256
#   scripts/package.sh site DIR   a built site (scripts/dist.sh) as release/gradscope-site.tar.gz
# After packing the CLI it unpacks the tarball elsewhere and runs the binary from there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GRADSCOPE_ROOT"
mkdir -p release
case "${1:-}" in
  cli)
    arch=$(uname -m)
    cargo build --release --locked --bin gradscope
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    mkdir "$stage/gradscope"
    cp "$CARGO_TARGET_DIR/release/gradscope" README.md "$stage/gradscope/"
    cp -r sweeps "$stage/gradscope/"
    # Symbols are a quarter of the binary (115 → 85 MB here); panics still name their location.
    if command -v strip >/dev/null; then strip "$stage/gradscope/gradscope"; fi
    tarball="release/gradscope-$arch-linux.tar.gz"
    tar -C "$stage" -czf "$tarball" gradscope
    (cd release && sha256sum "$(basename "$tarball")" > "$(basename "$tarball").sha256")
    # What a user does with it: unpack anywhere and run.
    check=$(mktemp -d)
    tar -C "$check" -xzf "$tarball"
    "$check/gradscope/gradscope" --version
    "$check/gradscope/gradscope" run doshi-quick-grok --steps 2 --quiet > /dev/null
    rm -rf "$check"
    echo "packed $tarball ($(stat -c %s "$tarball") bytes)"
    ;;
  site)
    dir=${2:?usage: scripts/package.sh site DIR}
    [ -f "$dir/index.html" ] || { echo "no site in $dir (build it with scripts/dist.sh)" >&2; exit 2; }
    tar -C "$dir" -czf release/gradscope-site.tar.gz .
    (cd release && sha256sum gradscope-site.tar.gz > gradscope-site.tar.gz.sha256)
    echo "packed release/gradscope-site.tar.gz ($(stat -c %s release/gradscope-site.tar.gz) bytes)"
    ;;
  *) echo "usage: scripts/package.sh cli | site DIR" >&2; exit 2 ;;
esac
