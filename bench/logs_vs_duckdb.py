#!/usr/bin/env python3
"""Flow-log benchmark: netaudit and DuckDB side by side on the same generated file.

Generates N flow records (default 10 M) in the default format with `netaudit logs generate`, plain and
gzip, then asks both engines the same two questions:
  1. the top 10 source -> destination pairs by bytes (`netaudit logs top-talkers --limit 10`);
  2. rejected traffic by source, with distinct destination ports and hosts, first and last seen
     (`netaudit logs rejects --limit 1000000`).
DuckDB runs the SQL those answers are defined by (crates/logs/src/answers.rs), with DuckDB's name for
epoch seconds to a timestamp. `netaudit logs sql` with the same SQL is measured too: arbitrary SQL on
DataFusion, for reference. Each run is a child process; wall time, CPU time and peak RSS come from
os.wait4. Every engine uses every core. The answers are compared row by row. DuckDB is installed from PyPI into its own virtualenv
($NETAUDIT_CACHE or ~/.cache/netaudit, venv-duckdb) on first use.

    python3 bench/logs_vs_duckdb.py --netaudit target/release/netaudit [--records 10000000] [--runs 3]

With --tree-records N it also measures a tree in the key layout AWS delivers flow logs to S3 in
(`netaudit logs generate --records N --gzip --s3-layout --files-per-hour K`, K from --files-per-hour,
default 4), for throughput and peak memory at a size the single file does not reach: parsing alone
(`SELECT count(*) FROM flows`) and both questions, netaudit's answers with `--flows TREE` (no nsql
rows), DuckDB with `read_csv('TREE/**/*.log.gz')` and the same SQL. The tree is generated once into
--tree-dir ($NETAUDIT_CACHE or ~/.cache/netaudit, bench-trees) and kept; a file beside it records its
file count, gzip and text sizes and records, and marks it complete, so later runs reuse it. Rows add
records/s, and MB/s counts the uncompressed text. The documented run:

    python3 bench/logs_vs_duckdb.py --netaudit target/release/netaudit --tree-records 100000000 --runs 1

Not run by the tests.
"""
import argparse
import csv
import glob
import gzip
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

DUCKDB_VERSION = "2.0.0"
COLUMNS = ("version INTEGER, account_id VARCHAR, interface_id VARCHAR, srcaddr VARCHAR, dstaddr VARCHAR, "
           "srcport INTEGER, dstport INTEGER, protocol INTEGER, packets BIGINT, bytes BIGINT, start BIGINT, "
           "\"end\" BIGINT, action VARCHAR, log_status VARCHAR")
# question: (netaudit's built-in answer, its SQL with {ts} for epoch seconds to a timestamp)
QUESTIONS = {
    "top10-pairs": (["top-talkers", "--limit", "10"],
                    "SELECT srcaddr, dstaddr, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS records "
                    "FROM flows WHERE log_status = 'OK' GROUP BY srcaddr, dstaddr "
                    "ORDER BY bytes DESC, srcaddr, dstaddr LIMIT 10"),
    "rejects-by-source": (["rejects", "--limit", "1000000"],
                          "SELECT srcaddr, count(*) AS rejected_records, count(DISTINCT dstport) AS distinct_dst_ports, "
                          "count(DISTINCT dstaddr) AS distinct_dst_hosts, CAST(NULL AS BIGINT) AS syn_only_records, "
                          "{ts}(min(start)) AS first_seen, {ts}(max(\"end\")) AS last_seen "
                          "FROM flows WHERE action = 'REJECT' GROUP BY srcaddr "
                          "ORDER BY distinct_dst_ports DESC, rejected_records DESC, srcaddr LIMIT 1000000"),
}
# Parsing alone, for the tree: every record is read and none is kept.
PARSE_ONLY_SQL = "SELECT count(*) FROM flows"


def duckdb_python(cache):
    venv = os.path.join(cache, "venv-duckdb")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    probe = subprocess.run([python, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        f"duckdb=={DUCKDB_VERSION}"], check=True)
        probe = subprocess.run([python, "-c", "import duckdb; print(duckdb.__version__)"],
                               capture_output=True, text=True, check=True)
    return python, probe.stdout.strip()


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def measure(argv):
    """Run argv; return (stdout, wall seconds, cpu seconds, peak RSS MiB).

    CPU time and peak RSS come from GNU time around the child when it is installed: Linux carries a
    process's memory high-water mark across fork and exec, so a child of this script (which holds
    the previous answers) would report at least this script's own size through wait4.
    """
    report = tempfile.NamedTemporaryFile(prefix="netaudit-bench-time-", delete=False)
    report.close()
    wrapped = [GNU_TIME, "-f", "%U %S %M", "-o", report.name] + argv if GNU_TIME else argv
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed ({status}):\n{err.decode(errors='replace')}")
    cpu, peak_mib = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    if GNU_TIME:
        with open(report.name) as f:
            user, system, peak_kib = f.read().split()[-3:]
        cpu, peak_mib = float(user) + float(system), int(peak_kib) / 1024
    os.unlink(report.name)
    return out.decode(), wall, cpu, peak_mib


def best_run(argv, runs, shown=None):
    """Print the command line, run it `runs` times; return the run with the least wall time."""
    print("  $ " + " ".join(shlex.quote(a) for a in shown or argv), file=sys.stderr)
    return min((measure(argv) for _ in range(runs)), key=lambda r: r[1])


def netaudit_argv(netaudit, subcommand, flows):
    return [netaudit, "logs"] + subcommand + ["--flows", flows, "--format", "csv"]


def duckdb_argv(python, script, source, sql):
    """The DuckDB run, and the command line to show (the script itself is long)."""
    return [python, "-c", script, source, sql], [python, "-c", "<DuckDB script>", source, sql]


def rows(text):
    return [tuple(r) for r in csv.reader(io.StringIO(text, newline=''))][1:]


DUCKDB_SCRIPT = """
import csv, sys, duckdb
path, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
# Epoch seconds to a timestamp without a time zone (a time zone needs pytz in Python).
con.execute('CREATE MACRO epoch_ts(s) AS make_timestamp(s * 1000000)')
con.execute(f\"\"\"CREATE VIEW flows AS SELECT * FROM read_csv('{path}', delim=' ', header=false,
    nullstr='-', columns={{{columns}}}, compression='auto')\"\"\")
result = con.execute(sql)
w = csv.writer(sys.stdout, lineterminator='\\n')
w.writerow([d[0] for d in result.description])
for row in result.fetchall():
    # Timestamps as netaudit writes them (UTC, seconds).
    w.writerow([v.strftime('%Y-%m-%dT%H:%M:%S') if hasattr(v, 'strftime') else v for v in row])
"""


def duckdb_columns():
    parts = []
    for column in COLUMNS.split(", "):
        name, kind = column.rsplit(" ", 1)
        parts.append(f"'{name.strip(chr(34))}': '{kind}'")
    return ", ".join(parts)


def s3_tree(netaudit, root, records, files_per_hour):
    """Generate the S3-layout tree once and describe it: {files, gzip_bytes, text_bytes, records}.

    The description is written next to the tree (not in it, where it would be read as flow logs) only
    after generation and measurement succeed, so a tree left by an interrupted run is written again.
    """
    tree = os.path.join(root, f"flows-{records}-{files_per_hour}-per-hour")
    marker = tree + ".complete.json"
    if os.path.exists(marker):
        with open(marker) as f:
            return tree, json.load(f)
    if os.path.exists(tree):
        shutil.rmtree(tree)
    os.makedirs(root, exist_ok=True)
    argv = [netaudit, "logs", "generate", "--records", str(records), "--gzip", "--s3-layout",
            "--files-per-hour", str(files_per_hour), "-o", tree]
    print("  $ " + " ".join(shlex.quote(a) for a in argv), file=sys.stderr)
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL)
    files = glob.glob(os.path.join(tree, "**", "*.log.gz"), recursive=True)
    # The text size and line count, by streaming each file through gzip once.
    text_bytes = lines = 0
    for path in files:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                text_bytes += len(chunk)
                lines += chunk.count(b"\n")
    info = {"files": len(files), "gzip_bytes": sum(os.path.getsize(p) for p in files),
            "text_bytes": text_bytes, "records": lines}
    with open(marker + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(marker + ".tmp", marker)
    return tree, info


def tree_benchmark(args, python, script, tree, info):
    """Parsing alone and both questions over the tree: netaudit's answers against DuckDB's glob."""
    label = f"tree ({info['records']:,} records, {info['files']} files)"
    duckdb_source = os.path.join(tree, "**", "*.log.gz")
    questions = {"parse-only": (["sql", PARSE_ONLY_SQL], PARSE_ONLY_SQL)} | QUESTIONS
    width = len(label)
    print()
    print(f"{label}: gzip {info['gzip_bytes'] / 2**20:,.0f} MiB, text {info['text_bytes'] / 1e6:,.0f} MB; "
          f"in {tree}")
    print(f"{'source':<{width}} {'question':<18} {'engine':<9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
          f"{'Mrec/s':>8} {'MB/s':>8}")
    ratios = []
    for question, (answer, sql) in questions.items():
        best = {}
        answers = {}
        for engine in ("netaudit", "duckdb"):
            shown = None
            if engine == "netaudit":
                argv = netaudit_argv(args.netaudit, answer, tree)
            else:
                argv, shown = duckdb_argv(python, script, duckdb_source, sql.format(ts="epoch_ts"))
            out, wall, cpu, rss = best_run(argv, args.runs, shown)
            best[engine] = (wall, rss)
            answers[engine] = rows(out)
            print(f"{label} {question:<18} {engine:<9} {wall:>8.2f} {cpu:>8.2f} {rss:>9.0f} "
                  f"{info['records'] / 1e6 / wall:>8.2f} {info['text_bytes'] / 1e6 / wall:>8.0f}")
        ratios.append((question, best["duckdb"][0] / best["netaudit"][0], best["netaudit"][1] / best["duckdb"][1],
                       answers["netaudit"] == answers["duckdb"]))
    print()
    print(f"{'source':<{width}} {'question':<18} {'duckdb/netaudit wall':>21} {'netaudit/duckdb peak':>21} "
          f"{'same answer':>12}")
    for question, wall_ratio, mem_ratio, same in ratios:
        print(f"{label} {question:<18} {wall_ratio:>21.2f} {mem_ratio:>21.2f} {str(same):>12}")
    print("(Mrec/s and MB/s count the records and the uncompressed text)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--netaudit", default="target/release/netaudit")
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine and question; the best is kept")
    parser.add_argument("--dir", help="where to write the generated files (default: a temporary folder)")
    parser.add_argument("--tree-records", type=int, default=0,
                        help="also measure a tree of this many records in the S3 layout (0: no tree)")
    parser.add_argument("--files-per-hour", type=int, default=4, help="files per hour of records in the tree")
    parser.add_argument("--tree-dir", help="where the tree is generated and kept for later runs "
                        "(default: $NETAUDIT_CACHE or ~/.cache/netaudit, bench-trees)")
    args = parser.parse_args()

    cache = os.environ.get("NETAUDIT_CACHE", os.path.expanduser("~/.cache/netaudit"))
    python, version = duckdb_python(cache)
    work = args.dir or tempfile.mkdtemp(prefix="netaudit-bench-")
    os.makedirs(work, exist_ok=True)
    plain = os.path.join(work, f"flows-{args.records}.log")
    gz = plain + ".gz"
    for path, extra in ((plain, []), (gz, ["--gzip"])):
        if not os.path.exists(path):
            print(f"generating {path}", file=sys.stderr)
            subprocess.run([args.netaudit, "logs", "generate", "--records", str(args.records), "-o", path] + extra,
                           check=True, stderr=subprocess.DEVNULL)
    script = DUCKDB_SCRIPT.replace("{columns}", duckdb_columns())
    print("flags: " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    print(f"netaudit {args.netaudit}; best of {args.runs} run(s) per engine and question; every engine uses every "
          f"core; the same file and SQL for both")
    print(f"records: {args.records:,}; plain {os.path.getsize(plain) / 2**20:,.0f} MiB, "
          f"gzip {os.path.getsize(gz) / 2**20:,.0f} MiB; cores: {os.cpu_count()}; DuckDB {version}")
    print(f"{'file':<6} {'question':<18} {'engine':<9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'MB/s':>8}")
    ratios = []
    for label, path in (("plain", plain), ("gzip", gz)):
        size_mb = os.path.getsize(plain) / 1e6
        for question, (answer, sql) in QUESTIONS.items():
            best = {}
            answers = {}
            for engine in ("netaudit", "duckdb", "nsql"):
                shown = None
                if engine == "netaudit":
                    argv = netaudit_argv(args.netaudit, answer, path)
                elif engine == "nsql":
                    argv = netaudit_argv(args.netaudit, ["sql", sql.format(ts="to_timestamp_seconds")], path)
                else:
                    argv, shown = duckdb_argv(python, script, path, sql.format(ts="epoch_ts"))
                out, wall, cpu, rss = best_run(argv, args.runs, shown)
                best[engine] = (wall, cpu, rss)
                answers[engine] = rows(out)
                print(f"{label:<6} {question:<18} {engine:<9} {wall:>8.2f} {cpu:>8.2f} {rss:>9.0f} "
                      f"{size_mb / wall:>8.0f}")
            same = answers["netaudit"] == answers["duckdb"] == answers["nsql"]
            ratio = best["duckdb"][0] / best["netaudit"][0]
            ratios.append((label, question, ratio, best["netaudit"][2] / best["duckdb"][2],
                           best["duckdb"][0] / best["nsql"][0], same))
    print()
    print("nsql: `netaudit logs sql` with the same SQL on DataFusion, for reference")
    print(f"{'file':<6} {'question':<18} {'duckdb/netaudit wall':>21} {'netaudit/duckdb peak':>21} "
          f"{'duckdb/nsql wall':>17} {'same answer':>12}")
    for label, question, wall_ratio, mem_ratio, sql_ratio, same in ratios:
        print(f"{label:<6} {question:<18} {wall_ratio:>21.2f} {mem_ratio:>21.2f} {sql_ratio:>17.2f} {str(same):>12}")
    print(f"(plain MB/s counts the uncompressed bytes; files kept in {work})")
    if args.tree_records:
        tree, info = s3_tree(args.netaudit, args.tree_dir or os.path.join(cache, "bench-trees"),
                             args.tree_records, args.files_per_hour)
        tree_benchmark(args, python, script, tree, info)


if __name__ == "__main__":
    main()
