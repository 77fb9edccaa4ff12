"""A stand-in for the `aws` command, for the script's Site-to-Site tunnel steps (the emulator has no
tunnel options, telemetry or ModifyVpnTunnelOptions). It keeps one VPN connection in a JSON state file
(NETAUDIT_FAKE_AWS_STATE) and behaves as AWS does after ModifyVpnTunnelOptions: telemetry goes on
reporting the tunnel's old UP status and LastStatusChange for `stale` reads, then DOWN for `down`
reads, then UP again (or never, when `back` is false). Output goes through the AWS CLI's own --query
and text formatter. Every call is recorded in order, and so is every modification made while another
tunnel of the connection was not carrying traffic.
"""
import json
import os
import sys

import jmespath
from awscli.text import format_text

STATE = os.environ["NETAUDIT_FAKE_AWS_STATE"]


def load():
    with open(STATE) as f:
        return json.load(f)


def save(state):
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f, indent=1)
    os.replace(STATE + ".tmp", STATE)


def options(argv):
    out = {}
    i = 0
    while i < len(argv):
        if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            out[argv[i]] = argv[i + 1]
            i += 2
        else:
            out[argv[i]] = True
            i += 1
    return out


def emit(data, opts):
    if "--query" in opts:
        data = jmespath.search(opts["--query"], data)
    if opts.get("--output") == "text":
        format_text(data, sys.stdout)
    else:
        json.dump(data, sys.stdout, indent=4)
        sys.stdout.write("\n")


def stamp(state):
    state["clock"] += 1
    return "2024-06-01T12:%02d:%02d.000Z" % divmod(state["clock"], 60)


def settle(state):
    """One read's worth of time for every tunnel being modified."""
    for t in state["tunnels"]:
        if t["reads_since_modify"] is None:
            continue
        t["reads_since_modify"] += 1
        n = t["reads_since_modify"]
        if n == state["stale"] + 1:
            t["telemetry"] = {"Status": "DOWN", "LastStatusChange": stamp(state)}
        if state["back"] and n == state["stale"] + state["down"] + 1:
            t["telemetry"] = {"Status": "UP", "LastStatusChange": stamp(state)}
            t["reads_since_modify"] = None


def carrying_traffic(t):
    return t["reads_since_modify"] is None and (t["telemetry"] or {}).get("Status") == "UP"


def connection(state):
    telemetry = [
        {
            "OutsideIpAddress": t["ip"],
            "Status": t["telemetry"]["Status"],
            "LastStatusChange": t["telemetry"]["LastStatusChange"],
            "StatusMessage": "",
            "AcceptedRouteCount": 0,
        }
        for t in state["tunnels"]
        if t["telemetry"] is not None
    ]
    return {
        "VpnConnectionId": state["vpn"],
        "State": state["connection_state"],
        "Type": "ipsec.1",
        "CustomerGatewayId": "cgw-0123456789abcdef0",
        "VpnGatewayId": "vgw-0123456789abcdef0",
        "Options": {"TunnelOptions": [dict(t["options"], OutsideIpAddress=t["ip"]) for t in state["tunnels"]]},
        "VgwTelemetry": telemetry,
    }


def main():
    state = load()
    service, op, opts = sys.argv[1], sys.argv[2], options(sys.argv[3:])
    if (service, op) == ("sts", "get-caller-identity"):
        state["calls"].append("sts get-caller-identity")
        save(state)
        account = state["account"]
        emit({"UserId": "AIDAFAKE", "Account": account, "Arn": f"arn:aws:iam::{account}:user/fake"}, opts)
        return 0
    if (service, op) == ("ec2", "describe-vpn-connections"):
        settle(state)
        seen = ",".join(f"{t['ip']}={(t['telemetry'] or {}).get('Status', '-')}" for t in state["tunnels"])
        state["calls"].append(f"describe {seen}")
        save(state)
        emit({"VpnConnections": [connection(state)]}, opts)
        return 0
    if (service, op) == ("ec2", "modify-vpn-tunnel-options"):
        ip = opts["--vpn-tunnel-outside-ip-address"]
        state["calls"].append(f"modify {ip}")
        tunnel = next(t for t in state["tunnels"] if t["ip"] == ip)
        for other in state["tunnels"]:
            if not carrying_traffic(other) and other is not tunnel:
                state["violations"].append(f"modified {ip} while {other['ip']} was not carrying traffic")
        if tunnel["reads_since_modify"] is not None:
            state["violations"].append(f"modified {ip} again before its last modification settled")
        change = json.loads(opts["--tunnel-options"])
        if "LogOptions" in change:
            tunnel["options"]["LogOptions"] = change["LogOptions"]
        if "IKEVersions" in change:
            tunnel["options"]["IkeVersions"] = change["IKEVersions"]
        tunnel["reads_since_modify"] = 0
        save(state)
        emit({"VpnConnection": connection(state)}, opts)
        return 0
    sys.stderr.write(f"fake aws: {service} {op} is not part of this test\n")
    return 2


sys.exit(main())
