#!/usr/bin/env python3
"""Benchmark: `dossier build` of a dossier (default: the sample), wall time and peak memory.

    python3 bench/build.py [DOSSIER] [--runs N]

Builds the release binary first, then runs `dossier build DOSSIER --out <temp>` N times
(default 5) and prints each run's wall time and peak resident memory (from wait4's rusage),
then the median. Not a test: run it on a quiet machine and compare figures, not thresholds.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(binary, dossier, out):
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "build", dossier, "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    stderr = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"build failed:\n{stderr}")
    pages = re.search(r"(\d+) 页，用时", stderr)
    # ru_maxrss is in KiB on Linux.
    return wall, usage.ru_maxrss / 1024, int(pages.group(1)) if pages else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dossier", nargs="?", default=os.path.join(ROOT, "dossier"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "dossier")
    walls, peaks = [], []
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.runs):
            wall, peak, pages = run_once(binary, args.dossier, out)
            walls.append(wall)
            peaks.append(peak)
            print(f"run {i + 1}: {wall:.2f} s, peak {peak:.0f} MiB, {pages} pages")
    print(f"median: {statistics.median(walls):.2f} s wall, {statistics.median(peaks):.0f} MiB peak "
          f"({pages} pages, {statistics.median(walls) / max(pages, 1) * 1000:.1f} ms/page)")


if __name__ == "__main__":
    main()
