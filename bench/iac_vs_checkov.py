#!/usr/bin/env python3
"""IaC benchmark: `netaudit scan --iac` and Checkov side by side on the same generated trees.

    python3 bench/iac_vs_checkov.py [--netaudit PATH] [--files 10,100,1000] [--runs 5] [--checkov-runs 3]
                                    [--checkov-budget 900]

For each size, `gen_iac.py` writes a Terraform tree (root modules calling nested local modules) and
CloudFormation templates; then both tools scan it, one after the other, several times:

  netaudit  scan --iac DIR --checks EC2.6,CloudWatch.16   (the controls Checkov's three checks answer)
  netaudit  scan --iac DIR                                (every control that applies before deploy)
  Checkov   -d DIR --check CKV2_AWS_11,CKV_AWS_66,CKV_AWS_338 --framework terraform cloudformation

Checkov runs up to --checkov-runs times per size, but no new run starts once its runs for that size
took --checkov-budget seconds (on 2 cores, 1,000 files take Checkov minutes). Prints the command
lines, the file counts, the median wall time (and the range), median CPU time and
peak memory (GNU time around each run, through harness.measure), the ratio Checkov / netaudit, and
what each tool reported for the comparable questions beside what the generator declared.

With --keep DIR, Checkov's measurements are saved in DIR; --reuse-checkov takes them from there
instead of running Checkov again on the identical tree (same size, seed and Checkov version), to
measure another netaudit build without waiting for Checkov.

Checkov is installed from PyPI, pinned, into its own virtualenv ($NETAUDIT_CACHE or
~/.cache/netaudit, venv-checkov-<version>) on first use. It runs offline: no Prisma Cloud download
(`--skip-download`, `BC_SKIP_MAPPING`), no PyPI version check (`CKV_SKIP_PACKAGE_UPDATE_CHECK`), no
external modules, no SCA scan. Not run by the tests.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_iac import generate  # noqa: E402
from harness import measure, shown  # noqa: E402

CHECKOV_VERSION = "3.3.30"
CHECKOV_CHECKS = "CKV2_AWS_11,CKV_AWS_66,CKV_AWS_338"
COMPARABLE_CONTROLS = "EC2.6,CloudWatch.16"
# Keeps Checkov from reaching out: no update check against PyPI, no Prisma Cloud mapping download,
# no package (SCA) scan.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "true",
               "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "CHECKOV_CREATE_SCA_IMAGE_REPORTS_FOR_IR": "false"}
# netaudit: 1 = FAIL found, 3 = FAIL and UNKNOWN; Checkov: 1 = a check failed.
EXPECTED_EXITS = {"netaudit": (0, 1, 3), "checkov": (0, 1)}


def checkov_binary(cache):
    venv = os.path.join(cache, f"venv-checkov-{CHECKOV_VERSION}")
    checkov = os.path.join(venv, "bin", "checkov")
    if not os.path.exists(checkov):
        print(f"Installing Checkov {CHECKOV_VERSION} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", f"checkov=={CHECKOV_VERSION}"], check=True)
    return checkov


def commands(netaudit, checkov, tree, out):
    na_comparable = [netaudit, "scan", "--iac", tree, "--checks", COMPARABLE_CONTROLS, "--format", "json",
                     "-o", os.path.join(out, "netaudit-comparable.json")]
    na_all = [netaudit, "scan", "--iac", tree, "--format", "json", "-o", os.path.join(out, "netaudit-all.json")]
    ck = [checkov, "-d", tree, "--check", CHECKOV_CHECKS, "--framework", "terraform", "cloudformation",
          "--skip-download", "--download-external-modules", "false", "--compact",
          "-o", "json", "--output-file-path", os.path.join(out, "checkov")]
    return [("netaudit", "comparable", na_comparable), ("netaudit", "all controls", na_all),
            ("checkov", "3 checks", ck)]


def netaudit_counts(report_path):
    """(control, status, framework) -> results, and the input errors, from a netaudit JSON report."""
    with open(report_path) as f:
        report = json.load(f)
    counts = Counter()
    for r in report["results"]:
        file = (r.get("location") or {}).get("file", "")
        framework = "terraform" if "/terraform/" in f"/{file}" else "cloudformation"
        counts[(r["control"], r["status"], framework)] += 1
    return counts, report["coverage"]["errors"]


def checkov_counts(out):
    """(check, passed|failed, framework) -> results, and the parsing errors, from Checkov's JSON."""
    with open(os.path.join(out, "checkov", "results_json.json")) as f:
        reports = json.load(f)
    counts, parse_errors = Counter(), 0
    for report in reports if isinstance(reports, list) else [reports]:
        framework = report.get("check_type", "?")
        parse_errors += report.get("summary", {}).get("parsing_errors", 0)
        for state in ("passed", "failed"):
            for c in report.get("results", {}).get(f"{state}_checks", []):
                counts[(c["check_id"], state, framework)] += 1
    return counts, parse_errors


def vpc_verdicts(tree, out):
    """Per Terraform VPC, keyed by (root folder, address): netaudit's EC2.6 and Checkov's CKV2_AWS_11.

    Checkov names a resource of a module by its address inside the module's own file (no root
    folder), so those keys carry the module's folder instead and never meet netaudit's.
    """
    with open(os.path.join(out, "netaudit-comparable.json")) as f:
        na = {(os.path.relpath(r["region"], tree), r["resource_id"]): r["status"]
              for r in json.load(f)["results"]
              if r["control"] == "EC2.6" and "/terraform/" in "/" + os.path.relpath(r["region"], tree) + "/"}
    with open(os.path.join(out, "checkov", "results_json.json")) as f:
        reports = json.load(f)
    ck = {}
    for report in reports if isinstance(reports, list) else [reports]:
        for state in ("passed", "failed"):
            for c in report.get("results", {}).get(f"{state}_checks", []):
                if c["check_id"] == "CKV2_AWS_11":
                    ck[(os.path.dirname(c["file_path"]).lstrip("/"), c["resource"])] = state.upper()[:4]
    return na, ck


def agreement(na, ck):
    """How the two tools' per-VPC verdicts line up."""
    kinds = Counter()
    for key in set(na) | set(ck):
        a, b = na.get(key), ck.get(key)
        if a and b:
            kinds[f"both {a}" if a == b else f"netaudit {a}, Checkov {b}"] += 1
        elif a:
            kinds[f"netaudit {a}, not seen by Checkov"] += 1
        else:
            kinds[f"Checkov {b}, not declared (count = 0) or a module's own address"] += 1
    return kinds


def save_checkov_runs(path, runs, out):
    """Keep Checkov's measurements and last results, so a later run on the same tree can reuse them."""
    with open(os.path.join(out, "checkov", "results_json.json")) as f:
        results = json.load(f)
    with open(path, "w") as f:
        json.dump({"runs": [{k: v for k, v in r.items() if k != "stderr"} for r in runs], "results": results}, f)


def reuse_checkov_runs(path, out):
    with open(path) as f:
        saved = json.load(f)
    os.makedirs(os.path.join(out, "checkov"), exist_ok=True)
    with open(os.path.join(out, "checkov", "results_json.json"), "w") as f:
        json.dump(saved["results"], f)
    return saved["runs"]


def check_generated_tree(expected, counts, errors):
    """netaudit must read the whole tree and report exactly what the generator declared."""
    if errors:
        sys.exit("netaudit could not read the generated tree:\n  " + "\n  ".join(map(str, errors[:10])))
    problems = []
    for fw in ("terraform", "cloudformation"):
        e = expected[fw]
        want = {
            ("EC2.6", "FAIL"): e["no_flow_log"] + e["accept_only"] + e["default_no_flow_log"],
            ("EC2.6", "PASS"): e["vpcs"] + e["default_vpcs"] - e["no_flow_log"] - e["accept_only"]
            - e["default_no_flow_log"],
            ("CloudWatch.16", "FAIL"): e["log_groups_short"],
            ("CloudWatch.16", "PASS"): e["log_groups"] - e["log_groups_short"],
        }
        for (control, status), n in want.items():
            got = counts[(control, status, fw)]
            if got != n:
                problems.append(f"{fw} {control} {status}: netaudit {got}, generator declared {n}")
    if problems:
        print("  WARNING, netaudit differs from what the generator declared:\n    " + "\n    ".join(problems))
    return not problems


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap.add_argument("--netaudit", default=os.path.join(target, "release", "netaudit"),
                    help="the netaudit binary (a release build)")
    ap.add_argument("--files", default="10,100,1000", help="comma-separated tree sizes, in files")
    ap.add_argument("--runs", type=int, default=5, help="runs of netaudit per size")
    ap.add_argument("--checkov-runs", type=int, default=3, help="runs of Checkov per size, at most")
    ap.add_argument("--checkov-budget", type=float, default=900,
                    help="seconds of Checkov per size after which no further run starts (at least one runs)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", help="write the trees, reports and Checkov's measurements here, not in a temporary folder")
    ap.add_argument("--reuse-checkov", action="store_true",
                    help="with --keep: reuse Checkov's measurements saved there for the same size, seed and version")
    args = ap.parse_args()
    if not os.access(args.netaudit, os.X_OK):
        sys.exit(f"{args.netaudit}: not found; build it with `cargo build --release --locked -p netaudit`")
    if args.reuse_checkov and not args.keep:
        sys.exit("--reuse-checkov needs --keep (the folder the measurements were saved in)")
    cache = os.environ.get("NETAUDIT_CACHE", os.path.expanduser("~/.cache/netaudit"))
    checkov = checkov_binary(cache)
    env = dict(os.environ, **CHECKOV_ENV)
    version = subprocess.run([args.netaudit, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version} ({os.path.realpath(args.netaudit)}); Checkov {CHECKOV_VERSION}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("Command lines ($DIR: the generated tree; $OUT: a temporary folder):")
    for tool, label, cmd in commands(args.netaudit, checkov, "$DIR", "$OUT"):
        print(f"  {tool} ({label}): {shown(cmd)}")
    print(f"  Checkov's environment: {' '.join(f'{k}={v}' for k, v in CHECKOV_ENV.items())}")
    print()

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or tmp
        rows, findings, checkov_counts_first = [], [], {}
        for files in [int(n) for n in args.files.split(",")]:
            tree = os.path.join(base, f"tree-{files}")
            out = os.path.join(base, f"out-{files}")
            os.makedirs(out, exist_ok=True)
            summary = generate(tree, files, args.seed)
            print(f"{files} files: {summary['terraform_files']} Terraform files ({summary['root_modules']} root "
                  f"modules + 6 module files), {summary['templates']} CloudFormation templates", flush=True)
            measured = {}
            for tool, label, cmd in commands(args.netaudit, checkov, tree, out):
                saved = os.path.join(base, f"checkov-{files}-seed{args.seed}-{CHECKOV_VERSION}.json")
                if tool == "checkov" and args.reuse_checkov and os.path.exists(saved):
                    runs = reuse_checkov_runs(saved, out)
                    print(f"  checkov  runs reused from {saved}")
                else:
                    runs = []
                    for _ in range(args.runs if tool == "netaudit" else args.checkov_runs):
                        if tool == "checkov" and sum(r["wall"] for r in runs) >= args.checkov_budget:
                            break
                        m = measure(cmd, env if tool == "checkov" else dict(os.environ))
                        if m["status"] not in EXPECTED_EXITS[tool]:
                            sys.exit(f"{tool} exited {m['status']}:\n{m['stderr'][-2000:]}")
                        runs.append(m)
                        if tool == "checkov":
                            counts, _ = checkov_counts(out)
                            first = checkov_counts_first.setdefault(files, counts)
                            if counts != first:
                                changed = ", ".join(f"{' '.join(k)} {first[k]}→{counts[k]}" for k in
                                                    sorted(set(first) | set(counts)) if first[k] != counts[k])
                                print(f"  note: Checkov's results differ from its first run on this tree: {changed}")
                    if tool == "checkov":
                        save_checkov_runs(saved, runs, out)
                measured[label] = runs
                walls = sorted(r["wall"] for r in runs)
                rows.append((files, tool, label, median(runs, "wall"), walls[0], walls[-1], median(runs, "cpu"),
                             max(r["rss_mib"] for r in runs), len(runs), runs[-1]["status"]))
                print(f"  {tool:<8} {label:<13} median {median(runs, 'wall'):.3f} s over {len(runs)} runs",
                      flush=True)
            na, na_errors = netaudit_counts(os.path.join(out, "netaudit-comparable.json"))
            matches = check_generated_tree(summary["expected"], na, na_errors)
            ck, ck_errors = checkov_counts(out)
            findings.append((files, summary["expected"], na, ck, ck_errors, matches, agreement(*vpc_verdicts(tree, out))))
            ratio = median(measured["3 checks"], "wall") / median(measured["comparable"], "wall")
            rows.append((files, "ratio", "checkov / netaudit comparable", ratio, None, None,
                         median(measured["3 checks"], "cpu") / max(median(measured["comparable"], "cpu"), 1e-9),
                         max(r["rss_mib"] for r in measured["3 checks"])
                         / max(r["rss_mib"] for r in measured["comparable"]), None, None))

    print()
    print(f"{'files':>5} {'tool':<8} {'run':<29} {'wall s (median)':>15} {'min–max':>15} {'cpu s':>8} "
          f"{'peak MiB':>9} {'runs':>4} {'exit':>4}")
    for files, tool, label, wall, lo, hi, cpu, rss, n, status in rows:
        if tool == "ratio":
            print(f"{files:>5} {tool:<8} {label:<29} {wall:>14.0f}× {'':>15} {cpu:>7.0f}× {rss:>8.1f}×")
        else:
            print(f"{files:>5} {tool:<8} {label:<29} {wall:>15.3f} {f'{lo:.3f}–{hi:.3f}':>15} {cpu:>8.3f} "
                  f"{rss:>9.1f} {n:>4} {status:>4}")

    print()
    print("VPCs without a flow log (Terraform; CKV2_AWS_11 is Terraform only):")
    print(f"{'files':>5} {'declared':>8} {'no log':>6} {'ACCEPT':>6} {'default':>7} {'EC2.6 FAIL':>10} "
          f"{'EC2.6 PASS':>10} {'CKV2_AWS_11 failed':>18} {'passed':>6}")
    for files, expected, na, ck, _, _, _ in findings:
        e = expected["terraform"]
        print(f"{files:>5} {e['vpcs'] + e['default_vpcs']:>8} {e['no_flow_log']:>6} {e['accept_only']:>6} "
              f"{e['default_no_flow_log']:>3}/{e['default_vpcs']:<3} {na[('EC2.6', 'FAIL', 'terraform')]:>10} "
              f"{na[('EC2.6', 'PASS', 'terraform')]:>10} {ck[('CKV2_AWS_11', 'failed', 'terraform')]:>18} "
              f"{ck[('CKV2_AWS_11', 'passed', 'terraform')]:>6}")
    print("  declared: VPCs the generator wrote, default VPCs included; no log: without any flow log; ACCEPT:")
    print("  logged, but accepted traffic only; default: adopted default VPCs without a flow log / all.")
    print("  EC2.6 fails the three; CKV2_AWS_11 ignores traffic_type and aws_default_vpc, so at best it")
    print("  fails `no log` and sees declared minus default VPCs.")
    print()
    print("The same VPCs, one by one (Terraform: root folder and address; EC2.6 against CKV2_AWS_11):")
    for files, *_, kinds in findings:
        for kind, n in sorted(kinds.items()):
            print(f"{files:>5} {n:>5}  {kind}")
    print()
    print("Log groups kept too short (retention under 365 days; absent = never expire):")
    print(f"{'files':>5} {'framework':<14} {'groups':>6} {'short':>5} {'forever':>7} {'CloudWatch.16 FAIL':>18} "
          f"{'CKV_AWS_338 failed':>18} {'passed':>6} {'CKV_AWS_66 failed':>17} {'passed':>6}")
    for files, expected, na, ck, ck_errors, _, _ in findings:
        for fw in ("terraform", "cloudformation"):
            e = expected[fw]
            print(f"{files:>5} {fw:<14} {e['log_groups']:>6} {e['log_groups_short']:>5} {e['log_groups_forever']:>7} "
                  f"{na[('CloudWatch.16', 'FAIL', fw)]:>18} {ck[('CKV_AWS_338', 'failed', fw)]:>18} "
                  f"{ck[('CKV_AWS_338', 'passed', fw)]:>6} {ck[('CKV_AWS_66', 'failed', fw)]:>17} "
                  f"{ck[('CKV_AWS_66', 'passed', fw)]:>6}")
        if ck_errors:
            print(f"{files:>5} Checkov parsing errors: {ck_errors}")
    if not all(f[5] for f in findings):
        sys.exit("netaudit's verdicts differ from what the generator declared (see the warnings above)")


if __name__ == "__main__":
    main()
