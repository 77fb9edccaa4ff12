"""Shared by the live benchmarks: a moto server of their own, its request count, and measuring a run.

Benchmarks are programs, not tests: nothing here runs in CI.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
DEFAULT_MOTO = os.path.expanduser("~/.cache/netaudit/venv-moto-5.2.5/bin/moto_server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(moto_server, log_path):
    """A moto server on a free loopback port, logging every request to `log_path`."""
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


REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*(?:GET|POST|PUT|DELETE|HEAD) /')


def requests_in(log_path):
    """Requests the emulator served so far: one access-log line each (error lines are coloured)."""
    with open(log_path) as f:
        return sum(1 for line in f if REQUEST.search(line))


GNU_TIME = "/usr/bin/time"


def measure(cmd, env, log_path=None):
    """Run `cmd` to the end: wall and CPU time, peak RSS, calls the emulator served, exit code.

    Without `log_path` (no emulator: an offline run) the call count is 0.

    CPU time and peak RSS come from GNU time, which starts the command as its own small child. Taking
    them with wait4 from this process would not do: Linux carries a process's memory high-water mark
    across fork and exec, so any child of this Python (boto3 loaded, the estate just seeded) would
    report at least this Python's own size.
    """
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"{GNU_TIME} (GNU time) is needed to measure peak memory")
    before = requests_in(log_path) if log_path else 0
    with tempfile.NamedTemporaryFile("r", suffix=".time") as usage:
        start = time.monotonic()
        proc = subprocess.Popen([GNU_TIME, "-f", "%U %S %M", "-o", usage.name, *cmd], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Read stderr while it runs, so a chatty tool never blocks on a full pipe.
        err = proc.stderr.read().decode(errors="replace")
        status = proc.wait()
        wall = time.monotonic() - start
        # The last line; a first one says so when the command exited non-zero.
        user, system, rss_kib = usage.read().split()[-3:]
    if log_path:
        time.sleep(0.5)  # let the emulator flush its request log
    return {
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss_mib": int(rss_kib) / 1024,
        "calls": requests_in(log_path) - before if log_path else 0,
        "status": status,
        "stderr": err,
    }


def shown(cmd):
    """A command line as it can be pasted into a shell (the emulator's URL left as $URL)."""
    return " ".join(a if re.fullmatch(r"[\w@%+=:,./$-]+", a) else repr(a) for a in cmd)
