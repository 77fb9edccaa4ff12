//! The bash script that collects evidence with the AWS CLI. The calls in it come from
//! [`OPERATIONS`]; only the control flow is written here.

use crate::operations::{Operation, Scope, OPERATIONS};

const TEMPLATE: &str = r#"#!/usr/bin/env bash
# netaudit evidence collection: saves the unmodified AWS CLI output that netaudit audits offline.
#
# Usage: bash collect-evidence.sh [OUT]        (OUT defaults to ./evidence)
# Needs: bash, the AWS CLI (v1 or v2) and jq (to read the region list and merge Firehose pages).
# Credentials are the AWS CLI's own: AWS_PROFILE, AWS_REGION, SSO, an instance role, ...
# Read-only: it calls only Get*, Describe* and List* APIs. For several accounts, run it once per
# account into the same OUT, e.g. `for p in prod dev; do AWS_PROFILE=$p bash collect-evidence.sh; done`.
#
# Writes OUT/<account-id>/<service>-<operation>.json for account-wide calls and
# OUT/<account-id>/<region>/<service>-<operation>.json for every enabled region. A failed call leaves
# <service>-<operation>.error (the CLI's error text) instead, so it can never pass for an empty list.
# Exit status: 0 every call succeeded; 3 some calls failed (their .error files say why; the evidence
# is still usable and netaudit reports those listings as gaps); 1 nothing could be collected.
set -euo pipefail

OUT=${1:-evidence}
# No pager and no interactive prompt, whatever the CLI config says.
export AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off

for tool in aws jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "collect: $tool is required but was not found on PATH" >&2
    exit 1
  fi
done

# Account-wide calls go to the configured region, or us-east-1 when none is set.
HOME_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
if [ -z "$HOME_REGION" ]; then
  HOME_REGION=$(aws configure get region 2>/dev/null || true)
fi
HOME_REGION=${HOME_REGION:-us-east-1}

ACCOUNT_RE='^[0-9]{12}$'
REGION_RE='^[a-z]{2}(-[a-z]+)+-[0-9]+$'
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# fail BASE STATUS: keep the CLI's error text ($TMP/stderr) as BASE.error, and no BASE.json.
fail() {
  local base=$1 status=$2
  rm -f "$base.json"
  if [ ! -s "$TMP/stderr" ]; then
    echo "the call exited with status $status and wrote no error text" >"$TMP/stderr"
  fi
  mv "$TMP/stderr" "$base.error"
  echo "collect: ${base#"$OUT"/}.error: $(grep -m1 -v '^[[:space:]]*$' "$base.error" || true)" >&2
}

# run DIR SERVICE OPERATION ARGS...: save the call's output as DIR/SERVICE-OPERATION.json, or its
# error text as DIR/SERVICE-OPERATION.error. The CLI follows NextToken itself. Output goes to a
# temporary file first, so an interrupted run never leaves a truncated .json behind.
run() {
  local dir=$1 service=$2 operation=$3 status=0
  shift 3
  local base="$dir/$service-$operation"
  rm -f "$base.json" "$base.error"
  aws "$service" "$operation" "$@" --output json >"$TMP/out" 2>"$TMP/stderr" || status=$?
  if [ "$status" -eq 0 ]; then
    mv "$TMP/out" "$base.json"
  else
    fail "$base" "$status"
  fi
}

# run_streams DIR SERVICE OPERATION ARGS...: like run, for firehose list-delivery-streams, which the
# CLI does not paginate: follow HasMoreDeliveryStreams and merge every page into one document.
run_streams() {
  local dir=$1 service=$2 operation=$3 status start="" previous="" names='[]' more
  shift 3
  local base="$dir/$service-$operation"
  rm -f "$base.json" "$base.error"
  while :; do
    status=0
    if [ -n "$start" ]; then
      aws "$service" "$operation" "$@" --exclusive-start-delivery-stream-name "$start" --output json \
        >"$TMP/page" 2>"$TMP/stderr" || status=$?
    else
      aws "$service" "$operation" "$@" --output json >"$TMP/page" 2>"$TMP/stderr" || status=$?
    fi
    if [ "$status" -ne 0 ]; then
      fail "$base" "$status"
      return 0
    fi
    if ! names=$(jq -c --argjson names "$names" \
        '.DeliveryStreamNames | if type == "array" then $names + . else error("no DeliveryStreamNames list") end' \
        "$TMP/page" 2>"$TMP/stderr") || ! more=$(jq -r '.HasMoreDeliveryStreams' "$TMP/page" 2>>"$TMP/stderr"); then
      echo "a page of $service $operation was not the expected JSON" >>"$TMP/stderr"
      fail "$base" 1
      return 0
    fi
    if [ "$more" != true ]; then
      break
    fi
    previous=$start
    start=$(jq -r '.DeliveryStreamNames[-1] // empty' "$TMP/page")
    if [ -z "$start" ] || [ "$start" = "$previous" ]; then
      echo "HasMoreDeliveryStreams is true, but the page gives no new name to continue from" >"$TMP/stderr"
      fail "$base" 1
      return 0
    fi
  done
  # The last page, with every page's names: HasMoreDeliveryStreams stays as AWS last said.
  if jq --argjson names "$names" '.DeliveryStreamNames = $names' "$TMP/page" >"$TMP/out" 2>"$TMP/stderr"; then
    mv "$TMP/out" "$base.json"
  else
    fail "$base" 1
  fi
}

mkdir -p "$OUT"

# The account id names the folder, so nothing can be filed without it.
status=0
aws @STS_SERVICE@ @STS_OPERATION@ --region "$HOME_REGION" --output json >"$TMP/identity" 2>"$TMP/stderr" || status=$?
if [ "$status" -ne 0 ]; then
  echo "collect: aws @STS_SERVICE@ @STS_OPERATION@ failed, so nothing was collected:" >&2
  cat "$TMP/stderr" >&2
  exit 1
fi
ACCOUNT=$(jq -r '.Account // empty' "$TMP/identity" 2>/dev/null || true)
if ! [[ $ACCOUNT =~ $ACCOUNT_RE ]]; then
  echo "collect: aws @STS_SERVICE@ @STS_OPERATION@ gave no 12-digit account id" >&2
  exit 1
fi
ACCOUNT_DIR="$OUT/$ACCOUNT"
mkdir -p "$ACCOUNT_DIR"
rm -f "$ACCOUNT_DIR/@STS_STEM@.error"
mv "$TMP/identity" "$ACCOUNT_DIR/@STS_STEM@.json"
echo "collect: account $ACCOUNT into $ACCOUNT_DIR" >&2

@ACCOUNT_CALLS@
# Every enabled region (opt-in-not-required or opted-in): a region not opted in cannot be called.
regions=""
if [ -f "$ACCOUNT_DIR/@REGIONS_STEM@.json" ]; then
  regions=$(jq -r '.Regions[] | select(.OptInStatus != "not-opted-in") | .RegionName' \
    "$ACCOUNT_DIR/@REGIONS_STEM@.json" 2>/dev/null) || regions=""
fi
if [ -z "$regions" ]; then
  echo "collect: could not list the account's regions; collecting $HOME_REGION only" >&2
  regions=$HOME_REGION
fi

for region in $regions; do
  if ! [[ $region =~ $REGION_RE ]]; then
    echo "collect: skipping an unexpected region name: $region" >&2
    continue
  fi
  REGION_DIR="$ACCOUNT_DIR/$region"
  mkdir -p "$REGION_DIR"
  echo "collect: $ACCOUNT $region" >&2
@REGIONAL_CALLS@done

failed=$(find "$ACCOUNT_DIR" -name '*.error' | wc -l | tr -d ' ')
if [ "$failed" -gt 0 ]; then
  echo "collect: done, but $failed call(s) failed: see the .error files under $ACCOUNT_DIR" >&2
  exit 3
fi
echo "collect: done: $ACCOUNT_DIR" >&2
"#;

/// The bash script that collects an evidence directory for the current AWS credentials. Run it as
/// `bash collect-evidence.sh [OUT]`; the header says what it needs and what its exit status means.
pub fn collection_script() -> String {
    let sts = Operation::STS_GET_CALLER_IDENTITY;
    let mut account_calls = String::new();
    let mut regional_calls = String::new();
    for op in OPERATIONS {
        match op.scope {
            Scope::Account if *op == sts => {}
            Scope::Account => account_calls.push_str(&call("run", op, "$ACCOUNT_DIR", "$HOME_REGION", "")),
            Scope::Regional => {
                let function = if *op == Operation::FIREHOSE_LIST_DELIVERY_STREAMS {
                    "run_streams"
                } else {
                    "run"
                };
                regional_calls.push_str(&call(function, op, "$REGION_DIR", "$region", "  "));
            }
        }
    }
    TEMPLATE
        .replace("@STS_SERVICE@", sts.service)
        .replace("@STS_OPERATION@", sts.operation)
        .replace("@STS_STEM@", &sts.stem())
        .replace("@REGIONS_STEM@", &Operation::EC2_DESCRIBE_REGIONS.stem())
        .replace("@ACCOUNT_CALLS@", &account_calls)
        .replace("@REGIONAL_CALLS@", &regional_calls)
}

fn call(function: &str, op: &Operation, dir: &str, region: &str, indent: &str) -> String {
    let extra = if op.extra_args.is_empty() {
        String::new()
    } else {
        format!(" {}", op.extra_args)
    };
    format!(
        "{indent}{function} \"{dir}\" {} {} --region \"{region}\"{extra}\n",
        op.service, op.operation
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_called_once() {
        let script = collection_script();
        let placeholder = script
            .split('@')
            .skip(1)
            .any(|s| s.starts_with(|c: char| c.is_ascii_uppercase()));
        assert!(!placeholder, "a placeholder was left in the script");
        for op in OPERATIONS {
            let needle = if *op == Operation::STS_GET_CALLER_IDENTITY {
                format!("aws {} {} --region", op.service, op.operation)
            } else {
                format!(" {} {} ", op.service, op.operation)
            };
            assert_eq!(script.matches(&needle).count(), 1, "{needle:?} in\n{script}");
        }
        assert!(script.contains("run \"$ACCOUNT_DIR\" ec2 describe-regions --region \"$HOME_REGION\" --all-regions\n"));
        assert!(script.contains("  run \"$REGION_DIR\" ec2 describe-flow-logs --region \"$region\"\n"));
        assert!(script.contains("  run_streams \"$REGION_DIR\" firehose list-delivery-streams --region \"$region\"\n"));
    }

    /// The table's names go into the script unquoted.
    #[test]
    fn table_values_are_shell_safe() {
        let safe = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b' ')
        };
        for op in OPERATIONS {
            assert!(safe(op.service) && safe(op.operation) && safe(op.extra_args), "{op:?}");
        }
    }
}
