"""Helpers shared by the benchmark scripts in this folder."""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "NO_COLOR": "1"}


def binary():
    """Builds the release binary and returns its path."""
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "dossier")


def parser(doc, runs):
    """An argument parser with the dossier folder (default: the sample) and --runs."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("dossier", nargs="?", default=os.path.join(ROOT, "dossier"))
    ap.add_argument("--runs", type=int, default=runs)
    return ap


def timed(cmd):
    """Runs a command; returns (wall seconds, peak resident MiB, what it printed: its results on
    stdout, then stderr). Exits if it fails."""
    # What earlier runs wrote is flushed first, so that no run pays for another's writes.
    os.sync()
    start = time.perf_counter()
    # One pipe for both streams: nothing to deadlock on.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV)
    err = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    # ru_maxrss is in KiB on Linux.
    return wall, usage.ru_maxrss / 1024, err
