#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a store under its size bound: Lambda's `/tmp` is the function's too (512 MB by default), and a store that
/// filled it would make the function's own writes fail. Runs on the writer thread after a commit; when the pages in
/// use pass `high` of the bound it deletes the oldest invocations with everything tied to them or older, in one
/// transaction, until they are under `low`; freed pages are reused, so the file stops growing. The WAL is kept small
/// by `journal_size_limit` and a lower auto-checkpoint (set at open), and checkpointed after a prune.
public struct StorePruner {
    let boundBytes: Int

    /// The default bound: 5% of the file system the store is on, between 8 and 256 MB (Lambda's default 512 MB
    /// `/tmp`: 25.6 MB, about 14,000 invocations with logs; 64 MB when the file system cannot be read).
    public static func defaultBound(forStoreAt path: String) -> Int {
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var info = statvfs()
        guard statvfs(folder.isEmpty ? "/" : folder, &info) == 0 else { return 64 << 20 }
        let total = Int(info.f_blocks) * Int(info.f_frsize)
        return min(256 << 20, max(8 << 20, total / 20))
    }
    /// Prune when the pages in use pass this share of the bound, down to `low` of it. The rest is the WAL's: a tenth
    /// of the bound between checkpoints, and a prune's own transaction until the checkpoint after it.
    static let high = 0.7
    static let low = 0.55

    /// What one prune did.
    struct Outcome: Equatable {
        var cutoffAt: Int64
        var invocations: Int
        var rows: Int
        var bytesBefore: Int
        var bytesAfter: Int
    }

    /// The WAL's share of the bound: the limit on the WAL file and the auto-checkpoint threshold.
    static func walSettings(boundBytes: Int, pageSize: Int) -> (journalSizeLimit: Int, autocheckpointPages: Int) {
        let wal = max(64 * 1024, boundBytes / 10)
        return (wal, max(16, wal / max(512, pageSize)))
    }

    /// Pages in use (the file less its free pages), in bytes.
    static func usedBytes(_ connection: Connection) throws(StoreError) -> Int {
        let pages = try connection.scalar("PRAGMA page_count").int64 ?? 0
        let free = try connection.scalar("PRAGMA freelist_count").int64 ?? 0
        let size = try connection.scalar("PRAGMA page_size").int64 ?? 4096
        return Int((pages - free) * size)
    }

    /// Prunes when needed (outside any transaction); nil when the store is under its bound or nothing can go.
    func pruneIfNeeded(_ connection: Connection, rev: Int64, now: Int64) throws(StoreError) -> Outcome? {
        let before = try Self.usedBytes(connection)
        guard Double(before) > Double(boundBytes) * Self.high else { return nil }
        let total = try connection.scalar("SELECT count(*) FROM invocations WHERE invoked_at IS NOT NULL").int64 ?? 0
        guard total > 1 else { return nil }
        // Rows take space in proportion, near enough: take the oldest share that brings the store to `low`,
        // keeping at least the newest invocation.
        let share = 1 - Double(boundBytes) * Self.low / Double(before)
        let count = min(total - 1, max(1, Int64((Double(total) * share).rounded(.up))))
        guard let cutoff = try connection.scalar(
            "SELECT invoked_at FROM invocations WHERE invoked_at IS NOT NULL ORDER BY invoked_at LIMIT 1 OFFSET ?",
            [.integer(count - 1)]).int64
        else { return nil }

        try connection.execute("BEGIN IMMEDIATE")
        var rows = 0
        var invocations = 0
        do {
            try connection.execute("CREATE TEMP TABLE IF NOT EXISTS pruned_requests (request_id TEXT PRIMARY KEY)")
            try connection.execute("DELETE FROM temp.pruned_requests")
            try connection.run(
                "INSERT INTO temp.pruned_requests SELECT request_id FROM invocations WHERE invoked_at <= ?",
                [.integer(cutoff)])
            let bound: [SQLValue] = [.integer(cutoff)]
            for sql in Self.deletions {
                try connection.run(sql, bound)
                rows += connection.changes
            }
            try connection.run("DELETE FROM invocations WHERE invoked_at <= ?", bound)
            invocations = connection.changes
            rows += invocations
            try connection.execute("""
                DELETE FROM environments WHERE coalesce(shutdown_at, started_at, registered_at, 0) <= \(cutoff)
                  AND id NOT IN (SELECT environment_id FROM invocations WHERE environment_id IS NOT NULL)
                """)
            rows += connection.changes
            try connection.execute("DELETE FROM temp.pruned_requests")
            try connection.execute("COMMIT")
        } catch {
            if connection.inTransaction { try? connection.execute("ROLLBACK") }
            throw error
        }
        // Best effort: a reader holding an old snapshot keeps the WAL until it moves on.
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let after = try Self.usedBytes(connection)
        let outcome = Outcome(cutoffAt: cutoff, invocations: invocations, rows: rows, bytesBefore: before, bytesAfter: after)
        try connection.run(
            """
            INSERT INTO store_prunes (at, cutoff_at, invocations, rows, bytes_before, bytes_after, bound_bytes, rev)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.integer(now), .integer(cutoff), .integer(Int64(invocations)), .integer(Int64(rows)),
             .integer(Int64(before)), .integer(Int64(after)), .integer(Int64(boundBytes)), .integer(rev)])
        return outcome
    }

    /// Everything tied to a pruned request, or recorded at or before the cutoff without one.
    static let deletions = [
        "DELETE FROM proxy_transactions WHERE request_id IN (SELECT request_id FROM temp.pruned_requests) OR created_at <= ?1",
        "DELETE FROM flushes WHERE request_id IN (SELECT request_id FROM temp.pruned_requests) OR started_at <= ?1",
        "DELETE FROM log_records WHERE request_id IN (SELECT request_id FROM temp.pruned_requests) OR at <= ?1",
        "DELETE FROM shutdowns WHERE received_at <= ?1",
        "DELETE FROM lifecycle_events WHERE at <= ?1",
    ]
}
