#!/usr/bin/env python3
"""Store faults under `lantern demo`: does forwarding stay whole, what does the store keep, what is said, and
does post-runtime move?

For each case it runs

    lantern demo --no-dash --count 150 --rate 20 --mix success=100 --seed 1 --db PATH --log LOG --apm-events EVENTS

and reports the APM transactions the recording APM Server received, the invocations the store kept, what
`lantern query stats` says about records_dropped / store_*, the lifecycle rows about the store, the collector's
log lines about the store, and the p50/p99 of the emulator's "Post Runtime Duration" (all invocations, and those
inside the fault window), against a healthy run in the same session.

Cases (the fault starts before the run unless said otherwise, and clears halfway, after 75 REPORT lines):
  healthy      a fresh store
  locked       an existing store that `sqlite3` holds with an open BEGIN EXCLUSIVE (run as the sandbox user,
               so the -wal/-shm it makes stay usable); COMMIT and quit halfway
  no-folder    the store's folder does not exist; created (0777) halfway
  corrupt      the store file is 64 KiB of random bytes (owned by the sandbox user) at start; never clears
  disk-full    the store on a 2 MiB tmpfs; after 20 invocations a filler file takes all the space left; the
               filler is removed after 100 (needs root for mount; skipped with a message otherwise)

Standard library only. Run as root from the package root:  python3 bench/store-faults.py [--lantern PATH]
Writes the markdown report to stdout (progress goes to stderr).
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX_UID, SANDBOX_GID = 993, 990  # the user `lantern emulate` runs the sandbox as when started by root
COUNT = 150
HALF = 75
DEMO_TIMEOUT = 90


def note(message):
    print(f"[store-faults] {message}", file=sys.stderr, flush=True)


def demo_command(lantern, db, log, events, count=COUNT):
    return [lantern, "demo", "--no-dash", "--count", str(count), "--rate", "20", "--mix", "success=100",
            "--seed", "1", "--db", db, "--log", log, "--apm-events", events]


def reports(log):
    """Post Runtime Duration (ms) of every REPORT line so far, in order."""
    try:
        with open(log, errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    return [float(m) for m in re.findall(r"^REPORT .*?Post Runtime Duration: ([0-9.]+) ms", text, re.M)]


def percentile(values, p):
    """Nearest rank, as `lantern query stats`."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def run_demo(lantern, workdir, db, hooks=()):
    """Runs the demo; `hooks` are (after_n_reports, callable) run while it goes. Returns the paths and timings."""
    log = os.path.join(workdir, "emulator.log")
    events = os.path.join(workdir, "apm-events.ndjson")
    stdout = open(os.path.join(workdir, "demo.stdout"), "w")
    started = time.monotonic()
    process = subprocess.Popen(demo_command(lantern, db, log, events), stdout=stdout, stderr=subprocess.STDOUT,
                               cwd=workdir)
    pending = sorted(hooks, key=lambda h: h[0])
    fired = {}
    while process.poll() is None:
        if time.monotonic() - started > DEMO_TIMEOUT:
            process.kill()
            note("demo took too long; killed")
            break
        done = len(reports(log))
        while pending and done >= pending[0][0]:
            at, action = pending.pop(0)
            fired[at] = done
            action()
        time.sleep(0.02)
    for at, action in pending:  # the run ended first: still clear the fault
        fired[at] = len(reports(log))
        action()
    stdout.close()
    return {"log": log, "events": events, "exit": process.returncode, "seconds": time.monotonic() - started,
            "fired": fired}


def transactions(events):
    """APM transactions the recording APM Server received (ndjson lines whose event is a transaction)."""
    count = 0
    try:
        with open(events) as handle:
            for line in handle:
                try:
                    if "transaction" in json.loads(line):
                        count += 1
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return count


def query(lantern, args):
    result = subprocess.run([lantern, "query"] + args + ["--format", "json"], capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip()
    try:
        return json.loads(result.stdout), None
    except ValueError:
        return None, result.stdout.strip()


def store_facts(lantern, db):
    stats, error = query(lantern, ["stats", "--db", db])
    facts = {"error": error}
    if stats is not None:
        values = {row["metric"]: row["value"] for row in stats}
        facts["invocations"] = values.get("invocations")
        facts["stats"] = {k: v for k, v in values.items() if k.startswith("records_dropped") or k.startswith("store_")}
    rows, _ = query(lantern, ["sql", "SELECT count(*) AS n, coalesce(sum(invoked_at IS NULL), 0) AS no_invoke, "
                              "coalesce(sum(released_at IS NULL), 0) AS no_release FROM invocations", "--db", db])
    if rows:
        facts["partial"] = rows[0]
    events, _ = query(lantern, ["events", "--db", db, "--limit", "0"])
    facts["lifecycle"] = [f"{e.get('kind')}: {e.get('detail') or ''}".strip() for e in (events or [])
                          if e.get("kind", "").startswith("store_") or e.get("kind") == "records_dropped"]
    return facts


def store_lines(log):
    try:
        with open(log, errors="replace") as handle:
            return [line.rstrip() for line in handle if "store" in line.lower() and not line.startswith("REPORT")]
    except FileNotFoundError:
        return []


def as_sandbox_user():
    os.setgid(SANDBOX_GID)
    os.setgroups([])
    os.setuid(SANDBOX_UID)


def give(path):
    if os.geteuid() == 0:
        os.chown(path, SANDBOX_UID, SANDBOX_GID)


# ---------------------------------------------------------------------------------------------------------- cases

def case_healthy(lantern, workdir):
    db = os.path.join(workdir, "lantern.db")
    return {"run": run_demo(lantern, workdir, db), "db": db, "window": None}


def case_locked(lantern, workdir):
    db = os.path.join(workdir, "store", "lantern.db")
    os.makedirs(os.path.dirname(db))
    os.chmod(os.path.dirname(db), 0o777)
    # A real store of an earlier environment (one invocation), then held.
    seed_dir = os.path.join(workdir, "seed")
    os.makedirs(seed_dir)
    subprocess.run(demo_command(lantern, db, os.path.join(seed_dir, "log"), os.path.join(seed_dir, "ev"), count=1),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=seed_dir, timeout=60)
    before = (store_facts(lantern, db).get("invocations") or 0)
    holder = subprocess.Popen(["sqlite3", db], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True,
                              preexec_fn=as_sandbox_user if os.geteuid() == 0 else None)
    holder.stdin.write("BEGIN EXCLUSIVE;\nINSERT INTO lifecycle_events (at, kind, rev) VALUES (1, 'holder', 0);\n")
    holder.stdin.flush()
    time.sleep(0.3)

    def release():
        note("locked: COMMIT and quit the sqlite3 holder")
        holder.stdin.write("COMMIT;\n.quit\n")
        holder.stdin.flush()
        holder.wait(timeout=10)

    try:
        run = run_demo(lantern, workdir, db, [(HALF, release)])
    finally:
        if holder.poll() is None:
            holder.kill()
    return {"run": run, "db": db, "window": (0, run["fired"].get(HALF)), "baseline_invocations": before}


def case_no_folder(lantern, workdir):
    folder = os.path.join(workdir, "later")
    db = os.path.join(folder, "lantern.db")

    def create():
        note("no-folder: creating the folder")
        os.makedirs(folder)
        os.chmod(folder, 0o777)

    run = run_demo(lantern, workdir, db, [(HALF, create)])
    return {"run": run, "db": db, "window": (0, run["fired"].get(HALF))}


def case_corrupt(lantern, workdir):
    folder = os.path.join(workdir, "store")
    os.makedirs(folder)
    os.chmod(folder, 0o777)
    db = os.path.join(folder, "lantern.db")
    with open(db, "wb") as handle:
        handle.write(random.Random(1).randbytes(64 * 1024))
    give(db)
    run = run_demo(lantern, workdir, db)
    aside = sorted(name for name in os.listdir(folder) if ".corrupt-" in name)
    return {"run": run, "db": db, "window": None, "extra": f"moved aside: {', '.join(aside) or 'nothing'}"}


def case_disk_full(lantern, workdir):
    mount = os.path.join(workdir, "tmpfs")
    os.makedirs(mount)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], capture_output=True, text=True)
    if result.returncode != 0:
        return {"skipped": f"cannot mount a tmpfs ({result.stderr.strip() or 'mount failed'}); run as root"}
    try:
        os.chmod(mount, 0o777)
        db = os.path.join(mount, "lantern.db")
        filler = os.path.join(mount, "filler")
        filled = {}

        def fill():
            written = 0
            chunk = b"\0" * 4096
            with open(filler, "wb", buffering=0) as handle:
                try:
                    while True:
                        written += handle.write(chunk)
                except OSError:
                    pass
            filled["bytes"] = written
            usage = shutil.disk_usage(mount)
            sizes = {name: os.path.getsize(os.path.join(mount, name)) // 1024 for name in sorted(os.listdir(mount))
                     if name != "filler"}
            filled["sizes"] = ", ".join(f"{name} {size} KiB" for name, size in sizes.items())
            note(f"disk-full: filler {written} bytes, {usage.free} bytes free; {filled['sizes']}")

        def clear():
            note("disk-full: removing the filler")
            os.remove(filler)

        run = run_demo(lantern, workdir, db, [(20, fill), (100, clear)])
        # Keep what is needed before unmounting: facts come from the store on the tmpfs.
        facts = store_facts(lantern, db)
        return {"run": run, "db": db, "window": (run["fired"].get(20), run["fired"].get(100)), "facts": facts,
                "extra": f"filler {filled.get('bytes', 0) // 1024} KiB after invocation 20 (then: {filled.get('sizes')}), "
                         f"removed after 100"}
    finally:
        subprocess.run(["umount", mount], capture_output=True)


CASES = [
    ("healthy", case_healthy),
    ("locked (sqlite3 BEGIN EXCLUSIVE, released halfway)", case_locked),
    ("folder missing (created halfway)", case_no_folder),
    ("corrupt file at start", case_corrupt),
    ("disk full mid-run (2 MiB tmpfs, freed after 100)", case_disk_full),
]


def fmt(value):
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.path.join(ROOT, ".build", "release", "lantern")
    if not os.path.exists(default):
        default = os.path.join(ROOT, ".build", "debug", "lantern")
    parser.add_argument("--lantern", default=default)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    options = parser.parse_args()

    top = tempfile.mkdtemp(prefix="lantern-store-faults-")
    os.chmod(top, 0o755)
    results = []
    began = time.monotonic()
    for name, case in CASES:
        workdir = os.path.join(top, re.sub(r"[^a-z]+", "-", name.split(" (")[0]))
        os.makedirs(workdir)
        os.chmod(workdir, 0o777)
        note(f"{name} ...")
        try:
            outcome = case(options.lantern, workdir)
        except Exception as error:  # report, go on with the other cases
            outcome = {"skipped": f"failed: {error!r}"}
        outcome["name"] = name
        if "skipped" not in outcome:
            if "facts" not in outcome:
                outcome["facts"] = store_facts(options.lantern, outcome["db"])
            run = outcome["run"]
            outcome["transactions"] = transactions(run["events"])
            outcome["post"] = reports(run["log"])
            outcome["store_lines"] = store_lines(run["log"])
        else:
            note(outcome["skipped"])
        results.append(outcome)

    total = time.monotonic() - began
    print(f"# Store faults ({time.strftime('%Y-%m-%d')})\n")
    print(f"`python3 bench/store-faults.py` with `{os.path.relpath(options.lantern, ROOT)}`; each case "
          f"`lantern demo --no-dash --count {COUNT} --rate 20 --mix success=100 --seed 1 --db PATH --log LOG "
          f"--apm-events EVENTS`. {total:.0f} s in all.\n")
    print("Post-runtime is the emulator's `Post Runtime Duration` (REPORT lines), nearest-rank; \"in fault\" is the "
          "REPORTs from the fault's start to its clearing (the whole run when it never clears).\n")
    print("| case | APM transactions | invocations in store | records_dropped (events) | store lifecycle rows | "
          "post-runtime p50 / p99 ms | in fault p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for outcome in results:
        if "skipped" in outcome:
            print(f"| {outcome['name']} | skipped: {outcome['skipped']} | | | | | |")
            continue
        facts = outcome["facts"]
        stats = facts.get("stats") or {}
        stored = facts.get("invocations")
        if stored is not None and outcome.get("baseline_invocations"):
            stored = f"{stored - outcome['baseline_invocations']} (+{outcome['baseline_invocations']} seeded)"
        elif stored is None:
            stored = f"unreadable: {facts.get('error')}"
        partial = facts.get("partial") or {}
        if partial.get("no_invoke") or partial.get("no_release"):
            stored = (f"{stored} (rows: {partial.get('n')}; {partial.get('no_invoke')} without INVOKE, "
                      f"{partial.get('no_release')} without release)")
        dropped = f"{fmt(stats.get('records_dropped'))} ({fmt(stats.get('records_dropped_events'))})"
        kinds = {}
        for row in facts.get("lifecycle", []):
            kind = row.split(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        lifecycle = ", ".join(f"{k} ×{v}" for k, v in kinds.items()) or "none"
        post = outcome["post"]
        window = outcome.get("window")
        if window is None or window[0] is None:
            in_fault = post if outcome["name"].startswith("corrupt") else []
        else:
            in_fault = post[window[0]:window[1]]
        print(f"| {outcome['name']} | {outcome['transactions']}/{COUNT} | {stored} | {dropped} | {lifecycle} | "
              f"{fmt(percentile(post, 50))} / {fmt(percentile(post, 99))} | "
              f"{fmt(percentile(in_fault, 50)) + ' / ' + fmt(percentile(in_fault, 99)) if in_fault else '–'} |")

    print("\n## Details\n")
    for outcome in results:
        print(f"### {outcome['name']}\n")
        if "skipped" in outcome:
            print(f"Skipped: {outcome['skipped']}\n")
            continue
        run = outcome["run"]
        print(f"- demo exit {run['exit']} in {run['seconds']:.1f} s; REPORT lines {len(outcome['post'])}; "
              f"hooks fired at REPORT {run['fired'] or '–'}")
        if outcome.get("extra"):
            print(f"- {outcome['extra']}")
        stats = outcome["facts"].get("stats")
        print(f"- `lantern query stats`: {json.dumps(stats) if stats is not None else outcome['facts'].get('error')}")
        partial = outcome["facts"].get("partial")
        if partial:
            print(f"- invocation rows {partial['n']}: without INVOKE fact (invoked_at empty) {partial['no_invoke']}, "
                  f"without release {partial['no_release']}")
        for row in outcome["facts"].get("lifecycle", []):
            print(f"- lifecycle: `{row}`")
        print(f"- collector/emulator log lines about the store: {len(outcome['store_lines']) or 'none'}")
        if outcome["store_lines"]:
            print("\n```")
            for line in outcome["store_lines"][:12]:
                print(line)
            if len(outcome["store_lines"]) > 12:
                print(f"... {len(outcome['store_lines']) - 12} more")
            print("```")
        print()
    if not options.keep:
        shutil.rmtree(top, ignore_errors=True)
    else:
        note(f"kept {top}")


if __name__ == "__main__":
    main()
