#!/usr/bin/env python3
"""Benchmark: `dossier build` at scale — dossiers of about 500, 2,000 and 5,000 pages of scanned
PDFs, 300-dpi JPEG scans and 12 MP phone photos (made by `examples/make_large.rs`).

    python3 bench/scale.py [--pages 500,2000,5000] [--work DIR] [--keep]

For each size: the total evidence size, the time of a plain `cp -r` of the evidence folder (the
I/O floor), then `dossier build` twice — cold (empty normalisation cache) and warm (cache
filled, as in a rebuild after a correction) — with wall time, time per page and peak resident
memory, then `dossier binder --all` (every unit's binder) with its wall time and peak. Needs
about 1 GiB of disk per 1,000 pages, twice (evidence and package).
"""
import argparse
import os
import re
import shutil
import subprocess
import tempfile

from common import ROOT, binary, timed


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", default="500,2000,5000")
    ap.add_argument("--work", help="folder for the generated dossiers (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated dossiers")
    args = ap.parse_args()
    exe = binary()
    subprocess.run(["cargo", "build", "--release", "--locked", "--example", "make_large"], cwd=ROOT, check=True)
    gen = os.path.join(ROOT, "target", "release", "examples", "make_large")
    work = args.work or tempfile.mkdtemp(prefix="dossier-scale-")
    rows = []
    for pages in [int(p) for p in args.pages.split(",")]:
        d = os.path.join(work, f"d{pages}")
        if not os.path.isdir(d):
            subprocess.run([gen, "--pages", str(pages), "--seed", "1", "--out", d], check=True)
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(d, "evidence")) for f in fs)
        copy = os.path.join(work, f"copy{pages}")
        shutil.rmtree(copy, ignore_errors=True)
        copy_wall, _, _ = timed(["cp", "-r", os.path.join(d, "evidence"), copy])
        shutil.rmtree(copy, ignore_errors=True)
        out = os.path.join(work, f"out{pages}")
        shutil.rmtree(out, ignore_errors=True)
        cold, cold_peak, err = timed([exe, "build", d, "--out", out])
        warm, warm_peak, err = timed([exe, "build", d, "--out", out])
        binders, binders_peak, binder_err = timed([exe, "binder", d, "--all", "--out", out])
        binder_pages = re.search(r"共生成 \d+ 本证据册(?:，分装 \d+ 盒)?（(\d+) 页", binder_err)
        found = re.search(r"(\d+) 页；资料包", err)
        total_pages = int(found.group(1)) if found else pages
        pdfs = [os.path.join(out, f) for f in os.listdir(out) if f.endswith(".pdf")]
        rows.append((total_pages, size, copy_wall, cold, cold_peak, warm, warm_peak, sum(map(os.path.getsize, pdfs)), len(pdfs),
                     binders, binders_peak, int(binder_pages.group(1)) if binder_pages else 0))
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    print()
    print("| PDF pages | evidence | cp -r | build, cold | ms/page | peak | build, warm | ms/page | peak | PDFs | binder --all | peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p, size, cp, cold, c_peak, warm, w_peak, pdf, n, b, b_peak, b_pages in rows:
        print(f"| {p} | {size / (1 << 30):.2f} GiB | {cp:.1f} s | {cold:.1f} s | {cold / p * 1000:.1f} | {c_peak:.0f} MiB "
              f"| {warm:.1f} s | {warm / p * 1000:.1f} | {w_peak:.0f} MiB | {n} files, {pdf / (1 << 20):.0f} MiB "
              f"| {b:.1f} s ({b_pages} pages) | {b_peak:.0f} MiB |")
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
