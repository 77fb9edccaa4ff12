#!/usr/bin/env bash
# The `netaudit-iac` pre-commit hook (.pre-commit-hooks.yaml): builds netaudit from the checkout
# this script is in (pre-commit keeps it in its cache; the first build takes minutes, later ones
# are no-ops) and runs `netaudit scan --iac` with the hook's arguments, in the repository being
# committed. The exit code is the scan's: any FAIL or incomplete result stops the commit.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --quiet --release --locked -p netaudit \
  --manifest-path "$here/Cargo.toml" --target-dir "$here/target" >&2
exec "$here/target/release/netaudit" scan --iac "$@"
