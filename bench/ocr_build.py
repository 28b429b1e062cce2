#!/usr/bin/env python3
"""Benchmark: `dossier build --ocr` — the text layer over scanned pages, in a whole build.

    python3 bench/ocr_build.py [DOSSIER …] [--work DIR]

For each dossier (default: the sample): a cold `build --ocr` (empty output folder: every page
without a text layer is read), a warm one (the same output folder: nothing is read again) and
a plain `build` into the same folder, each with wall time, peak resident memory and the pages
read; cold seconds per page read counts the whole build. A 500-page synthetic dossier comes
from `python3 bench/scale.py --pages 500 --work DIR --keep` (DIR/d500).
"""
import argparse
import json
import os
import shutil
import tempfile

from common import ROOT, binary, timed


def summary(out):
    """The JSON summary line of a run's output."""
    for line in reversed(out.splitlines()):
        if line.startswith("{") and '"type":"summary"' in line:
            return json.loads(line)
    raise SystemExit(f"no summary in:\n{out[-2000:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dossiers", nargs="*", default=[os.path.join(ROOT, "dossier")])
    ap.add_argument("--work", help="folder for the outputs (default: a temp folder)")
    args = ap.parse_args()
    exe = binary()
    work = args.work or tempfile.mkdtemp(prefix="dossier-ocr-")
    for i, d in enumerate(args.dossiers):
        out = os.path.join(work, f"out{i}")
        shutil.rmtree(out, ignore_errors=True)
        print(f"{d}  ({os.cpu_count()} cores)")
        for what, extra in [("cold --ocr", ["--ocr"]), ("warm --ocr", ["--ocr"]), ("plain", [])]:
            wall, peak, text = timed([exe, "build", d, "--out", out, "--format", "json", *extra])
            s = summary(text)
            ocr = s.get("ocr") or {}
            read = ocr.get("read", 0)
            per = f"; {wall / read:.2f} s per page read" if read else ""
            print(f"  {what:11} {wall:7.2f} s  peak {peak:5.0f} MiB  {s['pages']} pages, "
                  f"text layer on {ocr.get('pages', 0)}, read now {read}{per}")


if __name__ == "__main__":
    main()
