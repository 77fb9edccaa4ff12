#!/usr/bin/env python3
"""Live-scan benchmark: netaudit and Prowler side by side on the same emulated estate.

Starts a moto server on a free loopback port, seeds R regions x V VPCs (half with flow logs, log groups
with and without retention), then runs `netaudit scan` and Prowler restricted to the same controls
against it, one after the other. Prints wall time, CPU time, peak memory and the API calls each made
(counted from the emulator's request log), and the ratios.

Run with the Python of the moto virtualenv (it has boto3):
    ~/.cache/netaudit/venv-moto-5.2.5/bin/python bench/live_vs_prowler.py \
        --netaudit target/release/netaudit --prowler /path/to/venv/bin/prowler --regions 4 --vpcs 10,100
Not run by the tests.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

PROWLER_CHECKS = [
    "vpc_flow_logs_enabled",
    "ec2_client_vpn_endpoint_connection_logging_enabled",
    "vpc_vpn_connection_tunnels_up",
    "cloudwatch_log_group_retention_policy_specific_days_enabled",
]
NETAUDIT_CHECKS = "EC2.6,EC2.51,EC2.20,CloudWatch.16"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(moto_server, log_path):
    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto did not start")


def seed(url, regions, vpcs):
    for region in regions:
        session = boto3.session.Session(region_name=region, **{k.lower(): v for k, v in ENV.items() if k.startswith("AWS_ACCESS") or k.startswith("AWS_SECRET")})
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


REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*(?:GET|POST|PUT|DELETE|HEAD) /')


def requests_in(log_path):
    # One access-log line per request; error lines are coloured, so skip ANSI codes.
    with open(log_path) as f:
        return sum(1 for line in f if REQUEST.search(line))


def measure(cmd, env, log_path):
    before = requests_in(log_path)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    time.sleep(0.5)  # let the emulator flush its request log
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "calls": requests_in(log_path) - before,
        "status": os.waitstatus_to_exitcode(status),
        "stderr": err[-400:],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netaudit", default="target/release/netaudit")
    ap.add_argument("--prowler", required=True)
    ap.add_argument("--moto-server", default=os.path.join(os.path.dirname(sys.executable), "moto_server"))
    ap.add_argument("--regions", type=int, default=4)
    ap.add_argument("--vpcs", default="10,100", help="comma-separated VPC counts per region")
    args = ap.parse_args()
    regions = REGIONS[: args.regions]
    print(f"{'VPCs/region':>11} {'tool':>9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'API calls':>9}")
    for vpcs in [int(v) for v in args.vpcs.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            log_path = os.path.join(tmp, "moto.log")
            proc, url = start_moto(args.moto_server, log_path)
            try:
                seed(url, regions, vpcs)
                env = dict(os.environ, **ENV, AWS_ENDPOINT_URL=url)
                na = measure([args.netaudit, "scan", "--endpoint-url", url, "--regions", ",".join(regions),
                              "--checks", NETAUDIT_CHECKS, "--format", "json", "-o", os.path.join(tmp, "na.json"),
                              "--max-attempts", "1"], env, log_path)
                pr = measure([args.prowler, "aws", "--checks", *PROWLER_CHECKS, "-f", *regions, "--no-banner",
                              "--output-formats", "json-ocsf", "-o", os.path.join(tmp, "prowler")], env, log_path)
            finally:
                proc.kill()
            for name, m in (("netaudit", na), ("prowler", pr)):
                print(f"{vpcs:>11} {name:>9} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['rss_mib']:>9.1f} {m['calls']:>9}")
            print(f"{'':>11} {'ratio':>9} {pr['wall'] / na['wall']:>8.1f}x {pr['cpu'] / max(na['cpu'], 1e-9):>7.1f}x "
                  f"{pr['rss_mib'] / na['rss_mib']:>8.1f}x {pr['calls'] / max(na['calls'], 1):>8.1f}x  (prowler / netaudit)")
            for name, m in (("netaudit", na), ("prowler", pr)):
                if m["status"] not in (0, 1, 2, 3):
                    print(f"  {name} exited {m['status']}: {m['stderr']}")


if __name__ == "__main__":
    main()
