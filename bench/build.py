#!/usr/bin/env python3
"""Benchmark: `dossier build` of a dossier (default: the sample), wall time and peak memory.

    python3 bench/build.py [DOSSIER] [--runs N]

Builds the release binary first, then runs `dossier build DOSSIER --out <temp>` N times
(default 5) and prints each run's wall time and peak resident memory (from wait4's rusage),
then the median. Not a test: run it on a quiet machine and compare figures, not thresholds.
"""
import re
import statistics
import tempfile

from common import binary, parser, timed


def main():
    args = parser(__doc__, 5).parse_args()
    exe = binary()
    walls, peaks = [], []
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.runs):
            wall, peak, err = timed([exe, "build", args.dossier, "--out", out])
            found = re.search(r"(\d+) 页；资料包", err)
            pages = int(found.group(1)) if found else 0
            walls.append(wall)
            peaks.append(peak)
            print(f"run {i + 1}: {wall:.2f} s, peak {peak:.0f} MiB, {pages} pages")
    print(f"median: {statistics.median(walls):.2f} s wall, {statistics.median(peaks):.0f} MiB peak "
          f"({pages} pages, {statistics.median(walls) / max(pages, 1) * 1000:.1f} ms/page)")


if __name__ == "__main__":
    main()
