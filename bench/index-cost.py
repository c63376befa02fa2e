# The write cost of schema v3's dashboard index: invocations written per second with and without it, in one run.
# Each invocation is what the Recorder writes since it folds facts: an INVOKE upsert, then one upsert with the rest,
# committed every 100 invocations (WAL, synchronous=NORMAL). Run: python3 bench/index-cost.py
import sqlite3, time, os, sys, random
def run(with_v3, n=100_000):
    path = f"/tmp/lantern-index-cost-{with_v3}.db"
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(path + suffix)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    for f in ["001_init.sql", "002_query_indexes.sql"] + (["003_dashboard_filter_index.sql"] if with_v3 else []):
        db.executescript(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema", f)).read())
    # One invocation = an INVOKE insert then its later facts as one upsert (what the Recorder writes since coalescing).
    start = time.perf_counter()
    db.execute("BEGIN")
    for i in range(n):
        rid = f"r{i:08d}-8f14e45f-ceea-467f-a0e6"
        db.execute("INSERT INTO invocations (request_id, environment_id, invoked_at, rev) VALUES (?, 'env', ?, 1) "
                   "ON CONFLICT (request_id) DO UPDATE SET invoked_at = excluded.invoked_at", (rid, i * 1000))
        db.execute("INSERT INTO invocations (request_id, status, flush_reason, released_at, rev) VALUES (?, ?, ?, ?, 1) "
                   "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, flush_reason = excluded.flush_reason, "
                   "released_at = excluded.released_at", (rid, random.choice(["success","success","error"]), "agent", i * 1000 + 5))
        if i % 100 == 99:
            db.execute("COMMIT"); db.execute("BEGIN")
    db.execute("COMMIT")
    return n / (time.perf_counter() - start)
random.seed(1)
res = {}
for rnd in range(3):
    for v in (False, True):
        res.setdefault(v, []).append(run(v))
for v in (False, True):
    print("with v3 index" if v else "without v3  ", f"{sorted(res[v])[1]:.0f} invocations/s (median of 3)")
