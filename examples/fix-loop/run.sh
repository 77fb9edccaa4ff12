#!/usr/bin/env bash
# The remediation loop against a local AWS emulator (moto), no AWS account needed:
# seed gaps → scan → plan → apply (and verify) → scan again → diff.
# Usage: bash examples/fix-loop/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

MOTO_VERSION=5.2.5
venv="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/venv-moto-$MOTO_VERSION"
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
out=$(mktemp -d)
trap 'kill $moto; rm -rf "$out"' EXIT
until "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; do
  sleep 0.3
done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
url="http://127.0.0.1:$port"
regions=us-east-1,eu-west-1
"$venv/bin/python" examples/fix-loop/seed.py "$url" >/dev/null
cargo build -q -p netaudit
netaudit=${CARGO_TARGET_DIR:-target}/debug/netaudit
step() { printf '\n$ netaudit %s\n' "$*"; "$netaudit" "$@" || true; }

step scan --endpoint-url "$url" --regions "$regions" --format json -o "$out/before.json"
step fix plan --report "$out/before.json" --create-delivery-role
step fix plan --report "$out/before.json" --create-delivery-role --format json -o "$out/plan.json"
step fix apply "$out/plan.json" --endpoint-url "$url" --yes
step scan --endpoint-url "$url" --regions "$regions" --format json -o "$out/after.json"
step diff "$out/before.json" "$out/after.json"
step fix plan --report "$out/after.json"
step fix apply "$out/plan.json" --endpoint-url "$url" --yes
