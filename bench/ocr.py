#!/usr/bin/env python3
"""Benchmark: the built-in OCR engine alone, on the sample's scanned pages (the PNG scans of
`dossier/evidence`, 150 dpi A4): seconds per page (after the models are loaded) and peak
resident memory, on this machine's cores — pages side by side one core each (as a build
would read them), and one page at a time on every core.

    python3 bench/ocr.py [IMAGE …]
"""
import glob
import os
import re
import subprocess
import sys

from common import ROOT, timed


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--example", "ocr_page"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "examples", "ocr_page")
    pages = sys.argv[1:] or sorted(
        p for p in glob.glob(os.path.join(ROOT, "dossier", "evidence", "*", "*.png"))
        if "截图" not in p
    )
    for mode in ([], ["--one-by-one"]):
        wall, peak, out = timed([exe, *mode, *pages])
        per_page = re.search(r"每页 ([0-9.]+) 秒", out)
        load = re.search(r"加载模型：([0-9.]+) 秒", out)
        lines = sum(int(n) for n in re.findall(r"：(\d+) 行", out))
        how = "one at a time, every core" if mode else "side by side, one core each"
        print(f"{how}: {len(pages)} pages, {lines} lines, {os.cpu_count()} cores; model load {load.group(1)} s; "
              f"{per_page.group(1)} s per page; whole run {wall:.2f} s; peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
