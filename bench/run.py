"""`make bench`: run every bench/*.py and print one table, each figure beside its anchor.

Each benchmark runs in its own interpreter from the repository root with bench/ kept off
sys.path (bench/redline.py would otherwise shadow the `redline` package); its output is
shown as it runs, then read back for the summary. REDLINE_BENCH_QUICK=0 runs full sizes.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SKIP = {"common.py", "run.py"}
QUICK = os.environ.get("REDLINE_BENCH_QUICK", "1") != "0"
# Reduced sizes keep `make bench` under ten minutes on two cores.
ARGS = {"redline.py": ["--runs", "5"], "acceptance.py": ["100"],
        "fanout.py": ["--users", "50000", "--emails", "2000", "--repeat", "3"]} if QUICK else {}
# bench/ goes last on the path: its helpers (common.py) import, and `redline` is the package.
LAUNCH = ("import runpy, sys; bench = sys.argv[1]; "
          "sys.path[:] = [p for p in sys.path if p not in ('', '.') and not p.endswith('/bench')]; "
          "sys.path.insert(0, {src!r}); sys.path.append({bench!r}); sys.argv = sys.argv[1:]; "
          "runpy.run_path(bench, run_name='__main__')")
NUM = r"([0-9][0-9,]*\.?[0-9]*)"
ROW = re.compile(rf"^(\S.*?)\s+{NUM}\s{{2,}}(\S.*?)\s+{NUM}\s+ratio\s+{NUM}x")
REDLINE = re.compile(rf"^(\S.{{0,43}}?)\s+{NUM}\s+\d+\s+\d+\s+\d+\s+\d+\s+{NUM}\s+{NUM}\s+{NUM}\s")
FREEZE_HEAD = re.compile(rf"^(\S.*?): \d+ files, .*?{NUM} s wall")
FREEZE_ANCHOR = re.compile(rf"^\s+(\S.*?)\s+{NUM} s wall .*freeze / anchor\s+{NUM}x wall")
FANOUT = re.compile(rf"^\s+fan-out .*?:\s+{NUM} s")
FANOUT_ANCHOR = re.compile(rf"^\s+anchor: (sqlite3 executemany).*?:\s+{NUM} s")
EMAIL = re.compile(rf"^\s+outbox worker .*?:\s+{NUM} emails/s")
HEADLINE = re.compile(rf"^(\S.*?):\s+{NUM} s$")
ANCHOR_RATIO = re.compile(rf"^\s+anchor: (.*?):\s+{NUM} s\s+ratio\s+{NUM}x")
EMAIL_ANCHOR = re.compile(rf"^\s+anchor: (smtplib).*?:\s+{NUM} emails/s")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def parse(script: str, output: str) -> list[tuple]:
    """(figure, value, anchor, anchor value, ratio) rows from one benchmark's output."""
    rows, pending = [], {}
    for line in output.splitlines():
        if m := ROW.match(line):
            rows.append((m[1].strip(), number(m[2]), m[3].strip(), number(m[4]), number(m[5])))
        elif script == "redline.py" and (m := REDLINE.match(line)) and not line.startswith("case"):
            rows.append((f"redline {m[1].strip()} (ms)", number(m[3]), "Markdown render (ms)",
                         number(m[4]), number(m[5])))
        elif m := FREEZE_HEAD.match(line):
            pending["freeze"] = (f"freeze {m[1]} (s)", number(m[2]))
        elif (m := FREEZE_ANCHOR.match(line)) and "freeze" in pending:
            name, value = pending["freeze"]
            rows.append((name, value, f"{m[1]} (s)", number(m[2]), value / number(m[2])))
        elif m := HEADLINE.match(line):
            pending["headline"] = (f"{m[1][:40]} (s)", number(m[2]))
        elif (m := ANCHOR_RATIO.match(line)) and "headline" in pending:
            name, value = pending["headline"]
            rows.append((name, value, f"{m[1]} (s)", number(m[2]), number(m[3])))
        elif m := FANOUT.match(line):
            pending["fanout"] = number(m[1])
        elif (m := FANOUT_ANCHOR.match(line)) and "fanout" in pending:
            rows.append(("fan-out (s)", pending["fanout"], f"{m[1]} (s)", number(m[2]),
                         pending["fanout"] / number(m[2])))
        elif m := EMAIL.match(line):
            pending["email"] = number(m[1])
        elif (m := EMAIL_ANCHOR.match(line)) and "email" in pending:
            rows.append(("emails/s (outbox worker)", pending["email"], f"{m[1]} (emails/s)",
                         number(m[2]), pending["email"] / number(m[2])))
    return rows


def run(script: Path) -> tuple[int, str, float]:
    """Run one benchmark, echoing its output; return (exit code, output, seconds)."""
    command = [sys.executable, "-c", LAUNCH.format(src=str(ROOT / "src"), bench=str(BENCH)), str(script),
               *ARGS.get(script.name, [])]
    print(f"\n=== {script.name} {' '.join(ARGS.get(script.name, []))}", flush=True)
    start, lines = time.perf_counter(), []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return proc.returncode, "".join(lines), time.perf_counter() - start


def table(results: list[tuple]) -> str:
    head = f"{'benchmark':13} {'figure':46} {'value':>10}   {'anchor (same run)':34} {'value':>10} {'ratio':>7}"
    out = [head, "-" * len(head)]
    for script, rows, code, seconds in results:
        if not rows:
            out.append(f"{script:13} (no figures read; exit {code}, {seconds:.0f} s: see its output above)")
        for figure, value, anchor, anchor_value, ratio in rows:
            out.append(f"{script:13} {figure[:46]:46} {value:10.4g}   {anchor[:34]:34} "
                       f"{anchor_value:10.4g} {ratio:6.2f}x")
    return "\n".join(out)


def main() -> int:
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name not in SKIP)
    results, start = [], time.perf_counter()
    for script in scripts:
        code, output, seconds = run(script)
        results.append((script.name, parse(script.name, output), code, seconds))
    print(f"\n=== Summary ({time.perf_counter() - start:.0f} s, "
          f"{'reduced sizes; REDLINE_BENCH_QUICK=0 for full' if QUICK else 'full sizes'})")
    print(table(results))
    failed = [s for s, _, code, _ in results if code != 0]
    if failed:
        print(f"\nbenchmarks that exited with an error or missed a target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
