#!/usr/bin/env python3
"""Benchmark: scanned evidence against the floors, side by side in one run.

    python3 bench/scans.py [--count 200] [--runs 5] [--work DIR]

Makes COUNT distinct A4 pages scanned at 300 dpi (grey text-like strokes on paper, JPEG
quality 85, about 0.8 MB each) and the same pages as one-page PDFs (made by img2pdf), then
times, each with its peak resident memory:

- the floors: `img2pdf` of all the JPEGs into one PDF, `qpdf --empty --pages` of all the PDFs;
- `dossier build` of a dossier of COUNT records, one scan each: cold (empty normalisation
  cache), warm (the same inputs again) and after a correction (one record's title changed, as
  an office rebuilds after fixing a record); once with the JPEGs, once with the PDFs;

and prints the ratios dossier / floor and the PDF's size against the evidence it embeds: the
medians of RUNS rounds, each round running the floors and the builds one after another (this
machine is shared, and one run of each can be a third off).
Installs img2pdf and Pillow (pip) and qpdf (apt) when they are missing.
"""
import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from common import ROOT, binary, timed


def ensure_tools():
    """img2pdf and Pillow from PyPI, qpdf from Debian, when missing."""
    try:
        import PIL  # noqa: F401
        import img2pdf  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "img2pdf", "pillow"], check=True)
    if shutil.which("qpdf") is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "qpdf"], check=True)


def make_scans(folder, count):
    """COUNT distinct A4 300-dpi scans: lines of dark strokes like typed text, some noise."""
    from PIL import Image, ImageDraw, ImageFilter

    os.makedirs(folder, exist_ok=True)
    paths = []
    for n in range(count):
        path = os.path.join(folder, f"扫描件{n + 1:03}.jpg")
        paths.append(path)
        if os.path.exists(path):
            continue
        rng = random.Random(n)
        img = Image.new("L", (2480, 3508), 245)
        draw = ImageDraw.Draw(img)
        y = 300
        while y < 3200:
            x = 250
            while x < 2200:
                w = rng.randint(20, 60)
                draw.rectangle([x, y, x + w, y + 38], fill=rng.randint(20, 90))
                x += w + rng.randint(8, 30)
            y += 70
        img = img.filter(ImageFilter.GaussianBlur(1.2))
        noise = Image.effect_noise((2480, 3508), 18)
        img = Image.blend(img, noise, 0.12)
        img.save(path, "JPEG", quality=85, dpi=(300, 300))
    return paths


def make_dossier(exe, root, files):
    """A dossier (made by `dossier init`) with one record per file under evidence/01."""
    if os.path.isdir(root):
        shutil.rmtree(root)
    subprocess.run([exe, "init", root], check=True, capture_output=True)
    ev = os.path.join(root, "evidence", "01")
    os.makedirs(ev, exist_ok=True)
    lines = []
    for i, f in enumerate(files):
        name = os.path.basename(f)
        if same_fs(f, ev):
            os.link(f, os.path.join(ev, name))
        else:
            shutil.copy(f, ev)
        lines.append(
            f"  - 件号: {i + 1}\n    题名: 扫描件{i + 1:03}\n    责任单位: 县创建办公室\n"
            f"    日期: 2021-06-01\n    考核内容: [1]\n    文件: evidence/01/{name}\n"
        )
    item = os.path.join(root, "items", "01.yaml")
    with open(item, encoding="utf-8") as fh:
        text = fh.read()
    with open(item, "w", encoding="utf-8") as fh:
        fh.write(text.rstrip("\n") + "\n" + "".join(lines))


def median(values, i):
    """The median of the i-th element of each tuple in values."""
    return statistics.median(v[i] for v in values)


def spread(values):
    """The range of the times in values, e.g. "0.88–0.98"."""
    times = [v[0] for v in values]
    return f"{min(times):.2f}–{max(times):.2f}"


def same_fs(a, b):
    return os.stat(a).st_dev == os.stat(b).st_dev


def build(exe, root, out):
    """Cold, warm (the same inputs again) and after a correction (one record's title changed,
    as an office does between two builds): (wall, peak) each, and the PDF's size."""
    shutil.rmtree(out, ignore_errors=True)
    cold = timed([exe, "build", root, "--out", out])
    warm = timed([exe, "build", root, "--out", out])
    item = os.path.join(root, "items", "01.yaml")
    with open(item, encoding="utf-8") as fh:
        text = fh.read()
    # The middle record's title gets a word more.
    titles = [m.end() for m in re.finditer("题名: 扫描件[0-9]+", text)]
    at = titles[len(titles) // 2]
    with open(item, "w", encoding="utf-8") as fh:
        fh.write(text[:at] + "（更正）" + text[at:])
    corrected = timed([exe, "build", root, "--out", out])
    pdf = [f for f in os.listdir(out) if f.endswith(".pdf")]
    size = sum(os.path.getsize(os.path.join(out, f)) for f in pdf)
    return cold[:2], warm[:2], corrected[:2], size


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5, help="rounds of floor and builds (medians)")
    ap.add_argument("--work", help="folder for the generated files (default: a temp folder)")
    args = ap.parse_args()
    ensure_tools()
    exe = binary()
    work = args.work or tempfile.mkdtemp(prefix="dossier-scans-")
    jpegs = make_scans(os.path.join(work, "jpeg"), args.count)
    evidence = sum(map(os.path.getsize, jpegs))
    pdf_dir = os.path.join(work, "pdf")
    os.makedirs(pdf_dir, exist_ok=True)
    pdfs = []
    for j in jpegs:
        p = os.path.join(pdf_dir, os.path.basename(j)[:-4] + ".pdf")
        if not os.path.exists(p):
            subprocess.run(["img2pdf", j, "-o", p], check=True)
        pdfs.append(p)

    floors = {
        "JPEG": ["img2pdf", *jpegs, "-o", os.path.join(work, "floor-img2pdf.pdf")],
        "PDF": ["qpdf", "--empty", "--pages", *pdfs, "--", os.path.join(work, "floor-qpdf.pdf")],
    }
    # Each round runs the floor and the dossier's three builds one after the other, so that a
    # slow spell of this shared machine falls on both; the table gives the medians over the
    # rounds (and the range).
    runs = {kind: {"floor": [], "cold": [], "warm": [], "corrected": []} for kind in floors}
    sizes = {}
    for _ in range(args.runs):
        for kind, files in [("JPEG", jpegs), ("PDF", pdfs)]:
            r = runs[kind]
            r["floor"].append(timed(floors[kind])[:2])
            root = os.path.join(work, f"d-{kind}")
            make_dossier(exe, root, files)
            out = os.path.join(work, f"out-{kind}")
            cold, warm, corrected, sizes[kind] = build(exe, root, out)
            shutil.rmtree(out, ignore_errors=True)
            for key, value in [("cold", cold), ("warm", warm), ("corrected", corrected)]:
                r[key].append(value)

    n = args.count
    print()
    print(f"{n} A4 scans at 300 dpi, {evidence / 2**20:.0f} MiB of JPEG; 2 cores; "
          f"median of {args.runs} rounds (range)")
    print()
    print("| evidence | floor | floor time, peak | dossier cold | cold / floor | dossier warm | warm / floor "
          "| after a correction | / floor | peak cold / warm / corrected | PDF / evidence |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, r in runs.items():
        floor = "img2pdf" if kind == "JPEG" else "qpdf merge"
        fw, fm = median(r["floor"], 0), median(r["floor"], 1)
        cells = []
        for key in ["cold", "warm", "corrected"]:
            t = median(r[key], 0)
            cells.append(f"{t:.2f} s ({spread(r[key])}) | {t / fw:.1f}×")
        peaks = " / ".join(f"{median(r[k], 1):.0f}" for k in ["cold", "warm", "corrected"])
        top = max(p for k in ["cold", "warm", "corrected"] for _, p in r[k])
        print(f"| {n} {kind} | {floor} | {fw:.2f} s ({spread(r['floor'])}), {fm:.0f} MiB | "
              + " | ".join(cells)
              + f" | {peaks} MiB (highest {top:.0f}) | {sizes[kind] / evidence:.2f} |")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
