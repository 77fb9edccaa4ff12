#!/usr/bin/env python3
"""Organization-scale benchmark: one `netaudit scan --org` over N member accounts x R regions on moto.

Starts a moto server, creates an Organization with N member accounts (plus the management account),
and seeds every account in every region through the role netaudit assumes
(arn:aws:iam::<account>:role/OrganizationAccountAccessRole): V VPCs of which all but one have an
ACTIVE flow log to a group kept 365 days, and a group kept 30 days. Then it runs

    netaudit scan --org --regions r1,r2 [--account-concurrency N] [--skip ...] --stats --format json

and reports wall time, CPU time, peak RSS (wait4), API calls (the emulator's request log and
netaudit's own --stats count) and the result counts, and checks the results: every account present,
each with exactly the seeded verdicts in every region.

    ~/.cache/netaudit/venv-moto-5.2.5/bin/python bench/org_scale.py --netaudit target/release/netaudit

Runs are `CONTROLS:ACCOUNT_CONCURRENCY`, CONTROLS being `all` (every control, netaudit's defaults) or
`skip-cvpn` (without the controls that read Client VPN endpoints, which the emulator answers with
HTTP 500: retried with backoff on every attempt). Not run by the tests.
"""
import argparse
import collections
import json
import os
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DEFAULT_MOTO, ENV, measure, shown, start_moto  # noqa: E402

MANAGEMENT = "123456789012"
ROLE = "OrganizationAccountAccessRole"
CLIENT_VPN_CONTROLS = "EC2.51,NETAUDIT.CVPN.LOGGROUP,NETAUDIT.RETENTION.CHAIN"


_local = threading.local()


def base_session():
    """One boto3 session per thread: sessions are not thread-safe, and each loads the service models once."""
    if not hasattr(_local, "session"):
        _local.session = boto3.session.Session(region_name="us-east-1")
    return _local.session


def clients_for(url, account, services, region):
    """Clients of `account` (the management account's own keys, a member's through the role)."""
    keys = {"aws_access_key_id": ENV["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": ENV["AWS_SECRET_ACCESS_KEY"]}
    if account != MANAGEMENT:
        creds = base_session().client("sts", endpoint_url=url, **keys).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
        keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}
    return [base_session().client(s, endpoint_url=url, region_name=region, **keys) for s in services]


def seed_account(url, account, regions, vpcs):
    for region in regions:
        ec2, logs = clients_for(url, account, ["ec2", "logs"], region)
        logs.create_log_group(logGroupName="/org/flow")
        logs.put_retention_policy(logGroupName="/org/flow", retentionInDays=365)
        logs.create_log_group(logGroupName="/org/short")
        logs.put_retention_policy(logGroupName="/org/short", retentionInDays=30)
        for i in range(vpcs):
            vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
            if i > 0:
                ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                     LogDestinationType="cloud-watch-logs", LogGroupName="/org/flow",
                                     DeliverLogsPermissionArn=f"arn:aws:iam::{account}:role/flow")


def seed(url, accounts, regions, vpcs):
    [org] = clients_for(url, MANAGEMENT, ["organizations"], "us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = []
    for i in range(accounts):
        status = org.create_account(AccountName=f"member-{i:03d}", Email=f"member-{i:03d}@example.com")
        members.append(status["CreateAccountStatus"]["AccountId"])
    everyone = [MANAGEMENT] + members
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda a: seed_account(url, a, regions, vpcs), everyone))
    return everyone


def check(report, accounts, regions, vpcs):
    """What is wrong with the report, given the seed; empty when every account has its verdicts."""
    problems = []
    listed = set(report["coverage"]["accounts"])
    missing = set(accounts) - listed
    if missing:
        problems.append(f"{len(missing)} accounts missing from the report, e.g. {sorted(missing)[:3]}")
    per = collections.Counter((r["control"], r["account_id"], r["region"], r["status"]) for r in report["results"])
    # Per account and region: V-1 VPCs with a flow log pass; the unlogged one and the default VPC fail.
    expected = {("EC2.6", "PASS"): vpcs - 1, ("EC2.6", "FAIL"): 2,
                ("CloudWatch.16", "PASS"): 1, ("CloudWatch.16", "FAIL"): 1}
    wrong = 0
    for account in accounts:
        for region in regions:
            for (control, status), n in expected.items():
                if per[(control, account, region, status)] != n:
                    wrong += 1
                    if wrong <= 3:
                        problems.append(f"{account}/{region} {control} {status}: "
                                        f"{per[(control, account, region, status)]}, expected {n}")
    if wrong > 3:
        problems.append(f"... {wrong} wrong counts in all")
    return problems


def stats_total(stderr):
    m = re.search(r"^netaudit: (\d+) API calls$", stderr, re.M)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netaudit", default="target/release/netaudit")
    ap.add_argument("--moto-server", default=DEFAULT_MOTO)
    ap.add_argument("--accounts", type=int, default=200, help="member accounts (the management account is extra)")
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--vpcs", type=int, default=3, help="VPCs per account and region")
    ap.add_argument("--runs", default="skip-cvpn:4,skip-cvpn:16,all:4",
                    help="comma-separated CONTROLS:ACCOUNT_CONCURRENCY, CONTROLS all or skip-cvpn")
    args = ap.parse_args()
    regions = args.regions.split(",")

    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "moto.log")
        proc, url = start_moto(args.moto_server, log_path)
        try:
            started = time.monotonic()
            accounts = seed(url, args.accounts, regions, args.vpcs)
            print(f"seeded {len(accounts)} accounts x {len(regions)} regions x {args.vpcs} VPCs "
                  f"in {time.monotonic() - started:.0f} s", flush=True)
            env = dict(os.environ, **ENV)
            print(f"{'controls':>9} {'acct conc':>9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'calls':>7} "
                  f"{'--stats':>7} {'accounts':>8} {'PASS':>6} {'FAIL':>6} {'UNKNOWN':>7} {'N/A':>5} {'exit':>4} check")
            for run in args.runs.split(","):
                controls, concurrency = run.split(":")
                out = os.path.join(tmp, f"report-{controls}-{concurrency}.json")
                cmd = [args.netaudit, "scan", "--org", "--endpoint-url", url, "--regions", args.regions,
                       "--account-concurrency", concurrency]
                if controls == "skip-cvpn":
                    cmd += ["--skip", CLIENT_VPN_CONTROLS]
                cmd += ["--stats", "--format", "json", "-o", out]
                print("  $ " + shown([a if a != url else "$URL" for a in cmd]).replace(out, "$OUT/report.json"),
                      flush=True)
                m = measure(cmd, env, log_path)
                try:
                    with open(out) as f:
                        report = json.load(f)
                except (OSError, ValueError) as e:
                    print(f"  no report ({e}); exit {m['status']}: {m['stderr'][-600:]}")
                    continue
                totals = report["totals"]
                problems = check(report, accounts, regions, args.vpcs)
                print(f"{controls:>9} {concurrency:>9} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['rss_mib']:>9.1f} "
                      f"{m['calls']:>7} {stats_total(m['stderr']) or '-':>7} {len(report['coverage']['accounts']):>8} "
                      f"{totals['PASS']:>6} {totals['FAIL']:>6} {totals['UNKNOWN']:>7} {totals['NOT_APPLICABLE']:>5} "
                      f"{m['status']:>4} {'ok' if not problems else 'WRONG'}", flush=True)
                for p in problems:
                    print(f"    {p}")
                per_api = [line.strip() for line in m["stderr"].splitlines() if re.match(r"^\s+\d+\s+\S+:\S+$", line)]
                print("    calls per API: " + "; ".join(per_api))
        finally:
            proc.kill()


if __name__ == "__main__":
    main()
