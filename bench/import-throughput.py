#!/usr/bin/env python3
"""How fast `lantern import` reads a fleet back: N invocation lifecycle events (and one SHUTDOWN per environment),
shaped as the collector forwards them (intake `{"log": {...}}` lines, as `lantern demo --apm-events` records them),
spread over environments and functions, imported into a new store, then imported again (idempotent: nothing changes).

    python3 bench/import-throughput.py [--lantern .build-fleet/release/lantern] [--invocations 100000]

Prints the wall time and rate of both imports and checks the store's row counts.
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import uuid


def lines(invocations, environments, functions, seed):
    rng = random.Random(seed)
    start = 1_796_000_000_000_000
    envs = [(str(uuid.UUID(int=rng.getrandbits(128))), f"fleet-fn-{i % functions}") for i in range(environments)]
    per_env = invocations // environments
    for e, (env, fn) in enumerate(envs):
        at = start + e * 1_000_000
        for i in range(per_env):
            at += rng.randint(50_000, 2_000_000)
            handler = round(rng.uniform(2, 400), 3)
            post = round(rng.uniform(0.2, 3), 3)
            status = "success" if rng.random() > 0.03 else "error"
            labels = {
                "lantern_kind": "invocation", "lantern_environment": env,
                "lantern_initialization_type": "on-demand", "lantern_status": status,
                "lantern_flush_reason": "agent" if status == "success" else "runtimeDone",
                "lantern_handler_ms": handler, "lantern_post_runtime_ms": post,
                "lantern_total_ms": round(handler + post + 0.4, 3), "lantern_duration_ms": round(handler + post, 3),
                "lantern_billed_duration_ms": int(handler + post) + 1, "lantern_memory_mb": 512,
                "lantern_max_memory_used_mb": rng.randint(60, 120), "lantern_timeout_ms": 3000, "lantern_in_flight": 1,
            }
            if i == 0:
                labels["lantern_init_duration_ms"] = 180.5
            event = {"log": {
                "@timestamp": at, "event.dataset": "lantern.lifecycle", "log.level": "info",
                "message": f"invocation {i}: {status}",
                "faas": {"execution": str(uuid.UUID(int=rng.getrandbits(128))), "coldstart": i == 0,
                         "name": fn, "version": "$LATEST"},
                "labels": labels}}
            yield json.dumps(event, separators=(",", ":"))
        yield json.dumps({"log": {
            "@timestamp": at + 5_000_000, "event.dataset": "lantern.lifecycle", "log.level": "info",
            "message": "shutdown spindown", "faas": {"name": fn, "version": "$LATEST"},
            "labels": {"lantern_kind": "shutdown", "lantern_environment": env, "lantern_shutdown_reason": "spindown",
                       "lantern_flush_outcome": "sent", "lantern_pending_invocations": 0,
                       "lantern_proxies_created": 0, "lantern_flush_duration_ms": 1.2,
                       "lantern_deadline_in_ms": 2000, "lantern_exited_in_ms": 3.5}}}, separators=(",", ":"))


def timed_import(lantern, path, db):
    started = time.perf_counter()
    done = subprocess.run([lantern, "import", path, "--db", db], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lantern import failed ({done.returncode}): {done.stderr}")
    return elapsed, done.stdout.strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lantern", default=".build-fleet/release/lantern")
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--functions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fleet.ndjson")
        with open(path, "w") as handle:
            for line in lines(args.invocations, args.environments, args.functions, args.seed):
                handle.write(line + "\n")
        size = os.path.getsize(path)
        db = os.path.join(folder, "fleet.db")
        first, summary = timed_import(args.lantern, path, db)
        with sqlite3.connect(db) as connection:
            revision_after_first = connection.execute("SELECT max(rev) FROM invocations").fetchone()[0]
        second, _ = timed_import(args.lantern, path, db)
        with sqlite3.connect(db) as connection:
            invocations = connection.execute("SELECT count(*) FROM invocations").fetchone()[0]
            environments = connection.execute("SELECT count(*) FROM environments").fetchone()[0]
            shutdowns = connection.execute("SELECT count(*) FROM shutdowns").fetchone()[0]
            revision = connection.execute("SELECT max(rev) FROM invocations").fetchone()[0]
        events = args.invocations // args.environments * args.environments + args.environments
        print(f"file: {events} lifecycle events, {size / 1e6:.1f} MB")
        print(f"first import:  {first:.2f} s wall, {events / first:,.0f} events/s  ({summary})")
        print(f"second import: {second:.2f} s wall, {events / second:,.0f} events/s (idempotent)")
        print(f"store: {invocations} invocations, {environments} environments, {shutdowns} shutdowns, "
              f"invocations' max rev {revision} after the second import, {revision_after_first} after the first "
              f"({'the second import wrote nothing' if revision == revision_after_first else 'THE SECOND IMPORT WROTE'})")


if __name__ == "__main__":
    main()
