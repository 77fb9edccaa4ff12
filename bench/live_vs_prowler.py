#!/usr/bin/env python3
"""Live-scan benchmark: netaudit and Prowler side by side on the same emulated estate, same retry budget.

Starts a moto server on a free loopback port, seeds R regions x V VPCs (half with flow logs, log groups
with and without retention), then runs `netaudit scan` and Prowler restricted to the same controls
against it, one after the other, in three configurations:

  defaults   netaudit at its defaults (5 attempts, adaptive retry); Prowler given the same 5 attempts
  4 attempts both at 4 attempts: Prowler's default budget
  skip CVPN  as `defaults`, but both leave out the Client VPN control, whose API the emulator answers
             with HTTP 500 (both tools retry it, with backoff, on every attempt)

Prowler's `--aws-retries-max-attempts N` is botocore's legacy `max_attempts`, which counts retries:
N retries after the first attempt, N + 1 attempts in all (botocore sets `total_max_attempts = N + 1`).
Its default, 3, is 4 attempts. netaudit's `--max-attempts N` counts attempts, the first included. The
harness gives Prowler `attempts - 1` so that both make the same number of attempts.

Prints every command line in full, then wall time, CPU time, peak memory (wait4) and the API calls
each run made (counted from the emulator's request log), and the ratios.

Run with the Python of the moto virtualenv (it has boto3):
    ~/.cache/netaudit/venv-moto-5.2.5/bin/python bench/live_vs_prowler.py \
        --netaudit target/release/netaudit --prowler /path/to/venv/bin/prowler --regions 4 --vpcs 10,100
Not run by the tests.
"""
import argparse
import os
import sys
import tempfile

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DEFAULT_MOTO, ENV, measure, shown, start_moto  # noqa: E402

# The same four controls in both tools; the first two columns pair them.
CONTROLS = [
    ("EC2.6", "vpc_flow_logs_enabled"),
    ("EC2.51", "ec2_client_vpn_endpoint_connection_logging_enabled"),
    ("EC2.20", "vpc_vpn_connection_tunnels_up"),
    ("CloudWatch.16", "cloudwatch_log_group_retention_policy_specific_days_enabled"),
]
CLIENT_VPN = ("EC2.51", "ec2_client_vpn_endpoint_connection_logging_enabled")
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
NETAUDIT_DEFAULT_ATTEMPTS = 5

# (label, attempts for both tools, whether to pass netaudit --max-attempts, leave out Client VPN)
CONFIGS = [
    ("defaults", NETAUDIT_DEFAULT_ATTEMPTS, False, False),
    ("4 attempts", 4, True, False),
    ("skip CVPN", NETAUDIT_DEFAULT_ATTEMPTS, False, True),
]


def seed(url, regions, vpcs):
    for region in regions:
        session = boto3.session.Session(region_name=region, aws_access_key_id=ENV["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=ENV["AWS_SECRET_ACCESS_KEY"])
        ec2 = session.client("ec2", endpoint_url=url)
        logs = session.client("logs", endpoint_url=url)
        logs.create_log_group(logGroupName="/bench/flow")
        logs.put_retention_policy(logGroupName="/bench/flow", retentionInDays=365)
        logs.create_log_group(logGroupName="/bench/short")
        logs.put_retention_policy(logGroupName="/bench/short", retentionInDays=30)
        for i in range(vpcs):
            vpc = ec2.create_vpc(CidrBlock=f"10.{i % 250}.0.0/16")["Vpc"]["VpcId"]
            if i % 2 == 0:
                ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                     LogDestinationType="cloud-watch-logs", LogGroupName="/bench/flow",
                                     DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow")


def commands(netaudit, prowler, regions, url, out, attempts, pass_attempts, skip_cvpn):
    na = [netaudit, "scan", "--endpoint-url", url, "--regions", ",".join(regions),
          "--checks", ",".join(n for n, _ in CONTROLS)]
    if skip_cvpn:
        na += ["--skip", CLIENT_VPN[0]]
    if pass_attempts:
        na += ["--max-attempts", str(attempts)]
    na += ["--format", "json", "-o", os.path.join(out, "na.json")]
    checks = [p for n, p in CONTROLS if not (skip_cvpn and (n, p) == CLIENT_VPN)]
    # Prowler's flag counts retries after the first attempt.
    pr = [prowler, "aws", "--checks", *checks, "-f", *regions, "--aws-retries-max-attempts", str(attempts - 1),
          "--no-banner", "--output-formats", "json-ocsf", "-o", os.path.join(out, "prowler")]
    return na, pr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netaudit", default="target/release/netaudit")
    ap.add_argument("--prowler", required=True)
    ap.add_argument("--moto-server", default=DEFAULT_MOTO)
    ap.add_argument("--regions", type=int, default=4)
    ap.add_argument("--vpcs", default="10,100", help="comma-separated VPC counts per region")
    ap.add_argument("--configs", default=",".join(c[0] for c in CONFIGS),
                    help="comma-separated subset of: " + ", ".join(c[0] for c in CONFIGS))
    args = ap.parse_args()
    regions = REGIONS[: args.regions]
    wanted = args.configs.split(",")
    configs = [c for c in CONFIGS if c[0] in wanted]

    print("Command lines ($URL: the emulator; $OUT: a temporary directory):")
    for label, attempts, pass_attempts, skip in configs:
        na, pr = commands(args.netaudit, args.prowler, regions, "$URL", "$OUT", attempts, pass_attempts, skip)
        print(f"  [{label}] netaudit ({attempts} attempts, adaptive retry): {shown(na)}")
        print(f"  [{label}] prowler  ({attempts} attempts = {attempts - 1} retries, standard retry): {shown(pr)}")
    print()
    print(f"{'VPCs/region':>11} {'config':>10} {'tool':>9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
          f"{'API calls':>9} {'exit':>4}")
    for vpcs in [int(v) for v in args.vpcs.split(",")]:
        for label, attempts, pass_attempts, skip in configs:
            with tempfile.TemporaryDirectory() as tmp:
                log_path = os.path.join(tmp, "moto.log")
                proc, url = start_moto(args.moto_server, log_path)
                try:
                    seed(url, regions, vpcs)
                    env = dict(os.environ, **ENV, AWS_ENDPOINT_URL=url)
                    na_cmd, pr_cmd = commands(args.netaudit, args.prowler, regions, url, tmp, attempts,
                                              pass_attempts, skip)
                    na = measure(na_cmd, env, log_path)
                    pr = measure(pr_cmd, env, log_path)
                finally:
                    proc.kill()
            for name, m in (("netaudit", na), ("prowler", pr)):
                print(f"{vpcs:>11} {label:>10} {name:>9} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['rss_mib']:>9.1f} "
                      f"{m['calls']:>9} {m['status']:>4}")
            print(f"{'':>11} {label:>10} {'ratio':>9} {pr['wall'] / na['wall']:>7.1f}x "
                  f"{pr['cpu'] / max(na['cpu'], 1e-9):>7.1f}x {pr['rss_mib'] / na['rss_mib']:>8.1f}x "
                  f"{pr['calls'] / max(na['calls'], 1):>8.1f}x  (prowler / netaudit)", flush=True)
            for name, m in (("netaudit", na), ("prowler", pr)):
                if m["status"] not in (0, 1, 2, 3):
                    print(f"  {name} exited {m['status']}: {m['stderr'][-400:]}")


if __name__ == "__main__":
    main()
