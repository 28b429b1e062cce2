#!/usr/bin/env python3
"""Benchmark: in `dossier watch`, the time from saving a one-field correction to the new PDF on
disk, against a cold `dossier build` (a new process) of the same dossier.

    python3 bench/watch.py [DOSSIER] [--runs N]

Copies the dossier (default: the sample) to a temporary folder, starts `dossier watch` on it,
then N times (default 5) changes one record's title (saved the way editors do: a temporary
file renamed over the original) and waits for the PDF to be replaced. Prints each latency,
the median, and the ratio to the median of N cold builds — a new process with an empty output
folder, so nothing cached (the aim is ≤ 0.3) — and, for comparison, to builds by a new
process whose output folder already holds the normalisation cache.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import ENV, binary, parser


def main():
    args = parser(__doc__, 5).parse_args()
    exe = binary()
    env = ENV
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "d")
        shutil.copytree(args.dossier, d)
        out = os.path.join(tmp, "o")
        cold, warm = [], []
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([exe, "build", d, "--out", out], env=env, check=True, stderr=subprocess.DEVNULL)
            cold.append(time.perf_counter() - start)
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([exe, "build", d, "--out", out], env=env, check=True, stderr=subprocess.DEVNULL)
            warm.append(time.perf_counter() - start)
        pdf = next(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".pdf"))
        log = open(os.path.join(tmp, "watch.log"), "w")
        watch = subprocess.Popen([exe, "watch", d, "--out", out], env=env, stderr=log, stdout=log)
        try:
            wait_for(os.path.join(tmp, "watch.log"), "正在监视")
            items = sorted(os.listdir(os.path.join(d, "items")))
            target = next(os.path.join(d, "items", f) for f in items if "题名:" in open(os.path.join(d, "items", f), encoding="utf-8").read())
            original = open(target, encoding="utf-8").read()
            line = next(l for l in original.splitlines() if l.strip().startswith("题名:"))
            latencies = []
            for i in range(args.runs):
                before = os.stat(pdf).st_mtime_ns
                changed = original.replace(line, line + f"（更正{i + 1}）", 1)
                tmpfile = target + ".tmp~"
                with open(tmpfile, "w", encoding="utf-8") as f:
                    f.write(changed)
                start = time.perf_counter()
                os.replace(tmpfile, target)
                while os.stat(pdf).st_mtime_ns == before:
                    if time.perf_counter() - start > 120:
                        sys.exit("no rebuild within 120 s")
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - start)
                time.sleep(1.0)  # let the package and report finish before the next edit
        finally:
            watch.terminate()
            watch.wait()
    for i, t in enumerate(latencies):
        print(f"save → PDF {i + 1}: {t:.2f} s")
    w, c, r = statistics.median(latencies), statistics.median(cold), statistics.median(warm)
    print(f"median save → new PDF on disk: {w:.2f} s")
    print(f"cold build (new process, empty output folder): {c:.2f} s; ratio {w / c:.2f}")
    print(f"new process, normalisation cache filled: {r:.2f} s; ratio {w / r:.2f}")


def wait_for(path, text, limit=120):
    start = time.time()
    while time.time() - start < limit:
        if text in open(path, encoding="utf-8", errors="replace").read():
            return
        time.sleep(0.05)
    sys.exit(f"{text!r} did not appear in {path}")


if __name__ == "__main__":
    main()
