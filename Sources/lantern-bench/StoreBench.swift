import CSQLite
import LanternStore

#if canImport(Glibc)
import Glibc
#endif

/// The two sides of the store benchmark, on fresh stores with the same schema.
struct StoreBench {
    let records: Int
    let directory: String

    /// One invocation as the collector would describe it at release time.
    static func fact(_ index: Int, prefix: String) -> InvocationFact {
        var fact = InvocationFact(requestID: "\(prefix)-\(index)-8f14e45f-ceea-467f-a0e6")
        fact.environmentID = "env-bench"
        fact.functionARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        let at = 1_764_000_000_000_000 + Int64(index) * 1_000
        fact.invokedAt = at
        fact.deadlineAt = at + 3_000_000
        fact.timeoutMs = 3_000
        fact.traceID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        fact.coldStart = index == 0
        fact.startedAt = at + 100
        fact.runtimeDoneAt = at + 12_000
        fact.status = .success
        fact.durationMs = 11.9
        fact.billedDurationMs = 12
        fact.memorySizeMB = 128
        fact.maxMemoryUsedMB = 64
        fact.flushReason = .agent
        fact.releasedAt = at + 12_400
        fact.agentEvents = 3
        fact.agentBytes = 2_048
        return fact
    }

    private func freshStore(_ name: String) async throws -> String {
        let path = "\(directory)/lantern-bench-\(name)-\(getpid()).db"
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        // The Recorder creates the schema; the raw loop then writes into the same tables and indexes.
        let creator = try Recorder(path: path)
        await creator.close()
        return path
    }

    private func remove(_ path: String) { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Raw C API: one prepared INSERT into `invocations`, all rows in one transaction. Returns records/s.
    func rawInsertLoop() async throws -> Double {
        let path = try await freshStore("raw")
        defer { remove(path) }
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw BenchFailure("open \(path)") }
        defer { sqlite3_close_v2(db) }
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nil, nil, nil)
        let sql = """
            INSERT INTO invocations (request_id, environment_id, function_arn, invoked_at, deadline_at, timeout_ms,
                trace_id, cold_start, started_at, runtime_done_at, status, duration_ms, billed_duration_ms,
                memory_size_mb, max_memory_used_mb, flush_reason, released_at, agent_events, agent_bytes, rev)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, 1)
            """
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw BenchFailure(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        let facts = (0..<records).map { Self.fact($0, prefix: "raw") }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let start = Self.now()
        sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil)
        for fact in facts {
            sqlite3_bind_text(statement, 1, fact.requestID, -1, transient)
            sqlite3_bind_text(statement, 2, fact.environmentID!, -1, transient)
            sqlite3_bind_text(statement, 3, fact.functionARN!, -1, transient)
            sqlite3_bind_int64(statement, 4, fact.invokedAt!)
            sqlite3_bind_int64(statement, 5, fact.deadlineAt!)
            sqlite3_bind_int64(statement, 6, Int64(fact.timeoutMs!))
            sqlite3_bind_text(statement, 7, fact.traceID!, -1, transient)
            sqlite3_bind_int64(statement, 8, fact.coldStart! ? 1 : 0)
            sqlite3_bind_int64(statement, 9, fact.startedAt!)
            sqlite3_bind_int64(statement, 10, fact.runtimeDoneAt!)
            sqlite3_bind_text(statement, 11, fact.status!.rawValue, -1, transient)
            sqlite3_bind_double(statement, 12, fact.durationMs!)
            sqlite3_bind_int64(statement, 13, Int64(fact.billedDurationMs!))
            sqlite3_bind_int64(statement, 14, Int64(fact.memorySizeMB!))
            sqlite3_bind_int64(statement, 15, Int64(fact.maxMemoryUsedMB!))
            sqlite3_bind_text(statement, 16, fact.flushReason!.rawValue, -1, transient)
            sqlite3_bind_int64(statement, 17, fact.releasedAt!)
            sqlite3_bind_int64(statement, 18, Int64(fact.agentEvents))
            sqlite3_bind_int64(statement, 19, Int64(fact.agentBytes))
            guard sqlite3_step(statement) == SQLITE_DONE else { throw BenchFailure(String(cString: sqlite3_errmsg(db))) }
            sqlite3_reset(statement)
        }
        guard sqlite3_exec(db, "COMMIT", nil, nil, nil) == SQLITE_OK else { throw BenchFailure(String(cString: sqlite3_errmsg(db))) }
        let elapsed = Self.now() - start
        return Double(records) / (Double(elapsed) / 1e9)
    }

    /// What one Recorder run measured.
    struct RecorderRun {
        var recordsPerSecond: Double
        var meanCallNanos: Double
        var p50CallNanos: Double
        var p99CallNanos: Double
        var batches: Int
    }

    /// The Recorder: `record()` every fact from one task, then `flush()`. Throughput is first call to flush done.
    func recorderRun() async throws -> RecorderRun {
        let path = try await freshStore("recorder")
        defer { remove(path) }
        var options = Recorder.Options()
        options.maxQueue = records
        let recorder = try Recorder(path: path, options: options)
        let facts = (0..<records).map { StoreRecord.invocation(Self.fact($0, prefix: "rec")) }
        var callNanos = [UInt64](repeating: 0, count: records)
        let start = Self.now()
        for (index, record) in facts.enumerated() {
            let before = Self.now()
            guard recorder.record(record) else { throw BenchFailure("record() dropped a record: the queue is too small") }
            callNanos[index] = Self.now() - before
        }
        try await recorder.flush()
        let elapsed = Self.now() - start
        let statistics = recorder.statistics
        await recorder.close()
        guard statistics.committed == records else { throw BenchFailure("committed \(statistics.committed) of \(records)") }
        callNanos.sort()
        let total = callNanos.reduce(0, +)
        return RecorderRun(
            recordsPerSecond: Double(records) / (Double(elapsed) / 1e9),
            meanCallNanos: Double(total) / Double(records),
            p50CallNanos: Double(callNanos[records / 2]),
            p99CallNanos: Double(callNanos[min(records - 1, records * 99 / 100)]),
            batches: statistics.batches)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
