#!/usr/bin/env python3
"""Benchmark: `dossier binder --all` against building the same binders one process at a time,
and against `dossier build` of the whole dossier.

    python3 bench/binder.py [DOSSIER] [--runs N]

Prints the median wall time of each over N runs (default 3) and the ratios. `--all` shares
one set of fonts and one Typst cache and runs the binders on every core; the sequential runs
start one process per unit, as a script calling `binder --unit` would.
"""
import os
import statistics
import tempfile

from common import binary, parser, timed


def run(cmd):
    return timed(cmd)[0]


def main():
    args = parser(__doc__, 3).parse_args()
    exe = binary()
    with tempfile.TemporaryDirectory() as out:
        run([exe, "binder", args.dossier, "--all", "--out", out])
        units = sorted(f[:-4] for f in os.listdir(os.path.join(out, "binders")) if f.endswith(".pdf"))
        all_t, seq_t, build_t = [], [], []
        for _ in range(args.runs):
            all_t.append(run([exe, "binder", args.dossier, "--all", "--out", out]))
            seq_t.append(sum(run([exe, "binder", args.dossier, "--unit", u, "--out", out]) for u in units))
            build_t.append(run([exe, "build", args.dossier, "--out", out]))
    a, s, b = statistics.median(all_t), statistics.median(seq_t), statistics.median(build_t)
    print(f"{len(units)} binders")
    print(f"binder --all:             {a:.2f} s")
    print(f"one process per unit:     {s:.2f} s  (--all takes {a / s:.2f} of it)")
    print(f"build (dossier + package): {b:.2f} s  (--all takes {a / b:.2f}× the dossier build)")


if __name__ == "__main__":
    main()
