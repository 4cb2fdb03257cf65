"""Wall time of `identity-graph generate` at several scales, as whole processes.

Usage: python benchmarks/generate_scale.py [--days D] [N ...]   (default: 1000 10000 100000, the command's default days)

Each scale runs once in a fresh process (JVM start included) into a scratch
warehouse; the tables of figures are printed as Markdown for BENCHMARKS.md: rows per
table and wall time, then each table's step time and throughput (rows per second of its
step, as the command's progress lines report them: a table's step writes it and runs its checks;
the first step includes the JVM start).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: A progress line of the command: "[ 2/13] households   1,000 rows in 5.1s".
PROGRESS = re.compile(r"^\[\s*\d+/\d+\]\s+(?P<table>\S+)\s+(?P<rows>[\d,]+) rows in (?P<seconds>[\d.]+)s$")


def run(households: int, days: int | None = None) -> tuple[float, dict[str, int], dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "DAGSTER_HOME": os.path.join(scratch, "home")}
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "identity_graph.cli",
                "generate",
                "--households",
                str(households),
                "--warehouse",
                os.path.join(scratch, "warehouse"),
                *(["--days", str(days)] if days else []),
            ],
            check=False,  # a failure is reported below with the output
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"generate --households {households} failed:\n{done.stderr[-4000:]}")
    rows, seconds = {}, {}
    for line in done.stdout.splitlines():
        progress = PROGRESS.match(line.strip())
        if progress:
            seconds[progress["table"]] = float(progress["seconds"])
            continue
        parts = line.split()
        if len(parts) >= 2 and parts[1].replace(",", "").isdigit():
            rows[parts[0]] = int(parts[1].replace(",", ""))
    return elapsed, rows, seconds


def main(scales: list[int], days: int | None = None) -> None:
    results = [(n, *run(n, days)) for n in scales]
    tables = list(results[0][2])
    print(
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, local[*]; "
        f"days: {days or 'the default'}\n"
    )
    print("| households | " + " | ".join(tables) + " | wall time (s) |")
    print("|---:|" + "---:|" * len(tables) + "---:|")
    for n, elapsed, rows, _ in results:
        print(f"| {n:,} | " + " | ".join(f"{rows.get(t, 0):,}" for t in tables) + f" | {elapsed:.1f} |")
    print("\nStep time (s) and throughput (rows/s) per table:\n")
    print("| households | table | rows | step (s) | rows/s |")
    print("|---:|---|---:|---:|---:|")
    for n, _, rows, seconds in results:
        for t in tables:
            if t in seconds:
                rate = rows.get(t, 0) / seconds[t] if seconds[t] else 0.0
                print(f"| {n:,} | {t} | {rows.get(t, 0):,} | {seconds[t]:.1f} | {rate:,.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Time `identity-graph generate` at several household counts.")
    parser.add_argument("households", nargs="*", type=int, default=[1_000, 10_000, 100_000], help="household counts")
    parser.add_argument("--days", type=int, default=None, help="event days (default: the command's)")
    arguments = parser.parse_args()
    if arguments.days is not None and arguments.days < 1:
        parser.error("--days must be at least 1")
    main(arguments.households, arguments.days)
