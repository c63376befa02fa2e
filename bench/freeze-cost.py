#!/usr/bin/env python3
"""CPU an idle extension spends per freeze and thaw (SIGSTOP + SIGCONT), side by side for several binaries.

Lambda freezes the sandbox after every invocation that is not followed at once by the next, and the kernel wakes
every thread of a stopped process to stop it and again to let it go on: the cost grows with the thread count.
Each binary runs under `lantern emulate --no-freeze --eager-init` (so that only this script stops it), idles past
start-up, then takes CYCLES stop/continue pairs; its utime + stime over them, divided by CYCLES, is the figure.
Binaries are measured in turns, ROUNDS times, so that the VM's drift falls on all of them alike.

    python3 bench/freeze-cost.py --lantern .build-bench/release/lantern \\
        before/extensions/lantern-extension after/extensions/lantern-extension \\
        .build-bench/release/lantern-noop-extension
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def find_extension(folder, timeout=10.0):
    """The pid of the extension the emulator started from `folder`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for comm in glob.glob("/proc/[0-9]*/comm"):
            try:
                pid = int(comm.split("/")[2])
                if os.readlink(f"/proc/{pid}/exe").startswith(folder):
                    return pid
            except (OSError, ValueError):
                continue
        time.sleep(0.05)
    return None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(lantern, binary, cycles, settle):
    work = tempfile.mkdtemp(prefix="lantern-freeze-")
    os.chmod(work, 0o755)
    os.makedirs(f"{work}/extensions")
    # Lambda (and the emulator) registers an extension by its file name.
    shutil.copy(binary, f"{work}/extensions/lantern-extension")
    os.chmod(f"{work}/extensions", 0o755)
    os.chmod(f"{work}/extensions/lantern-extension", 0o755)
    emulator = subprocess.Popen(
        [lantern, "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--extensions",
         f"{work}/extensions", "--no-freeze", "--eager-init", "--", lantern, "sample-function"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        pid = find_extension(work)
        if pid is None:
            raise RuntimeError(f"{binary}: the extension did not start")
        # Past start-up, and past the idle exit (5 s) of any libdispatch worker start-up woke.
        time.sleep(settle)
        threads = len(os.listdir(f"/proc/{pid}/task"))
        before = cpu_seconds(pid)
        for _ in range(cycles):
            os.kill(pid, signal.SIGSTOP)
            time.sleep(0.0005)
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.0005)
        time.sleep(0.2)
        spent = cpu_seconds(pid) - before
        return threads, spent / cycles * 1e6
    finally:
        emulator.send_signal(signal.SIGTERM)
        try:
            emulator.wait(timeout=20)
        except subprocess.TimeoutExpired:
            emulator.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lantern", required=True, help="the lantern CLI (its emulator and sample function)")
    parser.add_argument("--cycles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=6.0, help="seconds to idle before measuring")
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    # The emulator runs in a scratch folder: relative paths would not reach.
    args.lantern = os.path.abspath(args.lantern)
    args.binaries = [os.path.abspath(binary) for binary in args.binaries]
    for round in range(1, args.rounds + 1):
        for binary in args.binaries:
            threads, micros = measure(args.lantern, binary, args.cycles, args.settle)
            print(f"round {round}  {binary}: {threads} threads, {micros:.1f} µs of CPU per freeze + thaw "
                  f"({args.cycles} cycles)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
