#!/usr/bin/env python3
"""Benchmark: packaging a multi-GiB evidence set, against a plain copy of the same files.

    python3 bench/package.py [--gib 2] [--file-mib 64] [--keep DIR]

Writes a dossier (via `dossier init`) whose item 1 has one record per large evidence file
(incompressible data, as a `.mp4` video marked 仅入包, so the time goes into packaging rather than
typesetting), then measures:
  - `dossier build` wall time and peak resident memory (wait4 rusage),
  - `cp -r` of the same evidence folder (the floor: read + write of the same bytes),
and prints the throughput of each and their ratio. The page cache is warm for both (the data
was just written), so the figures compare CPU and write costs, not disk reads.
"""
import argparse
import os
import shutil
import subprocess
import tempfile

from common import binary, timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=2.0, help="total evidence size in GiB")
    ap.add_argument("--file-mib", type=int, default=64, help="size of each evidence file in MiB")
    ap.add_argument("--keep", help="write the dossier here and keep it (default: a temp folder)")
    args = ap.parse_args()
    exe = binary()

    work = args.keep or tempfile.mkdtemp(prefix="dossier-bench-")
    dossier = os.path.join(work, "d")
    if os.path.exists(dossier):
        shutil.rmtree(dossier)
    subprocess.run([exe, "init", dossier], check=True, stderr=subprocess.DEVNULL)
    count = max(1, int(args.gib * 1024 / args.file_mib))
    size = args.file_mib << 20
    folder = os.path.join(dossier, "evidence", "01")
    records = ["指标: 1", "材料:"]
    chunk = os.urandom(1 << 20)
    for i in range(count):
        name = f"会议录像{i + 1:03d}.mp4"
        with open(os.path.join(folder, name), "wb") as f:
            for k in range(args.file_mib):
                # Vary each MiB so nothing is repeated within a file.
                f.write(chunk[k % 251:] + chunk[:k % 251])
        records += [
            f"  - 件号: {i + 1}",
            f"    题名: 第{i + 1}次质量工作会议录像",
            "    日期: 2021-06-01",
            "    责任单位: 县创建办公室",
            "    考核内容: [1]",
            "    文件:",
            f"      - {{路径: evidence/01/{name}, 仅入包: 是}}",
        ]
    with open(os.path.join(dossier, "items", "01.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(records) + "\n")
    total = count * size
    print(f"evidence: {count} files × {args.file_mib} MiB = {total / (1 << 30):.2f} GiB")

    out = os.path.join(work, "out")
    build_wall, build_peak, _ = timed([exe, "build", dossier, "--out", out])
    copy_dest = os.path.join(work, "copy")
    shutil.rmtree(copy_dest, ignore_errors=True)
    copy_wall, _, _ = timed(["cp", "-r", os.path.join(dossier, "evidence"), copy_dest])
    package = next(os.path.join(out, n) for n in os.listdir(out) if n.endswith(".zip"))
    zip_size = os.path.getsize(package)
    gib = total / (1 << 30)
    print(f"dossier build: {build_wall:.2f} s ({gib / build_wall:.2f} GiB/s), peak {build_peak:.0f} MiB, zip {zip_size / (1 << 30):.2f} GiB")
    print(f"cp -r:         {copy_wall:.2f} s ({gib / copy_wall:.2f} GiB/s)")
    print(f"ratio (copy time / build time): {copy_wall / build_wall:.2f}")
    verify_wall, verify_peak, _ = timed([exe, "verify", package])
    print(f"dossier verify: {verify_wall:.2f} s ({gib / verify_wall:.2f} GiB/s), peak {verify_peak:.0f} MiB")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
