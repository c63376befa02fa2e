import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer thread's side of the Recorder: owns the connection, commits batches in `BEGIN IMMEDIATE`
/// transactions stamped with a store-wide revision, retries failures, and reports drops.
final class RecordWriter {
    private let connection: Connection
    private let queue: RecordQueue
    private let options: Recorder.Options
    private let pruner: StorePruner?
    private var revision: Int64
    /// Drops already written as a `records_dropped` lifecycle event.
    private var reportedDrops = 0
    private var lastEnvironmentID: String?

    init(connection: Connection, queue: RecordQueue, options: Recorder.Options) throws(StoreError) {
        self.connection = connection
        self.queue = queue
        self.options = options
        pruner = options.sizeBoundBytes.map { StorePruner(boundBytes: $0) }
        revision = try connection.scalar(RecordStatements.maxRevision).int64 ?? 0
        queue.updateStatistics { $0.revision = revision }
    }

    /// The writer thread's body: runs until the queue is closed and drained, then checkpoints and closes.
    func run() {
        var buffer: [StoreRecord] = []
        buffer.reserveCapacity(min(options.maxQueue, 4_096))
        let delay: DispatchTimeInterval? = options.commitDelayMs > 0 ? .milliseconds(options.commitDelayMs) : nil
        while case .records = queue.take(into: &buffer, commitDelay: delay) {
            var start = 0
            while start < buffer.count {
                let end = min(start + max(1, options.batchSize), buffer.count)
                commit(buffer[start..<end])
                start = end
            }
            buffer.removeAll(keepingCapacity: true)
        }
        reportDropsIfAny()
        do {
            try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        } catch {
            report(error, context: "checkpoint at close failed")
        }
        statements = []
        invocationStatements = [:]
        connection.close()
        queue.didClose()
    }

    /// Keeps the size bound. A prune that fails is reported and tried again after the next commit; the records
    /// themselves are already safe.
    private func pruneIfNeeded() {
        guard let pruner else { return }
        do {
            guard let outcome = try pruner.pruneIfNeeded(connection, rev: revision, now: epochMicros()) else { return }
            queue.updateStatistics {
                $0.prunedInvocations += outcome.invocations
                $0.prunes += 1
            }
        } catch {
            report(error, context: "pruning the store to its size bound failed")
        }
    }

    /// Commits one batch, retrying with backoff; after the last retry the batch is dropped and counted.
    private func commit(_ batch: ArraySlice<StoreRecord>) {
        let delays = options.retryDelaysMs
        for attempt in 0...delays.count {
            do {
                let (written, rejected) = try writeBatch(batch)
                queue.finished(batch.count) { statistics in
                    statistics.committed += written
                    statistics.rejected += rejected
                    statistics.dropped += rejected
                    statistics.batches += 1
                    statistics.revision = revision
                }
                pruneIfNeeded()
                return
            } catch {
                queue.updateStatistics { statistics in
                    statistics.failedAttempts += 1
                    statistics.lastError = error
                }
                if attempt < delays.count {
                    report(error, context: "store write failed (attempt \(attempt + 1) of \(delays.count + 1)); retrying in \(delays[attempt]) ms")
                    usleep(UInt32(clamping: max(0, delays[attempt]) * 1_000))
                } else {
                    report(error, context: "store write failed \(delays.count + 1) times; dropping \(batch.count) records")
                    queue.finished(batch.count) { statistics in
                        statistics.failedBatches += 1
                        statistics.dropped += batch.count
                        statistics.droppedFailedWrites += batch.count
                    }
                }
            }
        }
    }

    /// Writes `batch` in one transaction. Returns (rows written, records refused by a constraint).
    private func writeBatch(_ batch: ArraySlice<StoreRecord>) throws(StoreError) -> (Int, Int) {
        let rev = revision + 1
        try connection.execute("BEGIN IMMEDIATE")
        var rejected = 0
        var wroteLogs = false
        do {
            try writeDropReport(rev: rev)
            for (record, count) in Self.coalesced(batch) {
                do {
                    let statement: Statement
                    let bindings: [SQLValue]
                    if case .invocation(let fact) = record {
                        let upsert = RecordStatements.invocationUpsert(fact, rev: rev)
                        statement = try invocationStatement(shape: upsert.shape)
                        bindings = upsert.bindings
                    } else {
                        let sql: String
                        (sql, bindings) = RecordStatements.sql(for: record, rev: rev)
                        statement = try self.statement(for: record, sql: sql)
                    }
                    try statement.bind(bindings)
                    _ = try statement.step()
                } catch where error.code == .constraint {
                    // One bad record (e.g. a value outside a CHECK list) must not sink the whole batch.
                    rejected += count
                    report(error, context: "record refused by the store")
                    continue
                }
                switch record {
                case .log: wroteLogs = true
                case .environment(let fact): lastEnvironmentID = fact.id
                default: break
                }
            }
            if wroteLogs { try connection.run(RecordStatements.trimLogs, [.integer(Int64(max(0, options.logRetention)))]) }
            try connection.execute("COMMIT")
        } catch {
            if connection.inTransaction { try? connection.execute("ROLLBACK") }
            throw error
        }
        revision = rev
        if pendingDropReport != nil {
            reportedDrops = pendingDropReport!
            pendingDropReport = nil
        }
        return (batch.count - rejected, rejected)
    }

    private var pendingDropReport: Int?

    /// The batch with each request's invocation facts folded into one upsert at the place of its first
    /// (an invocation makes ~8 facts, which a commit delay puts in one batch), with how many records each
    /// written record stands for. The stored row is the same as from upserting them one by one.
    static func coalesced(_ batch: ArraySlice<StoreRecord>) -> [(record: StoreRecord, count: Int)] {
        var out: [(record: StoreRecord, count: Int)] = []
        out.reserveCapacity(batch.count)
        var slot: [String: Int] = [:]
        for record in batch {
            guard case .invocation(let fact) = record else {
                out.append((record, 1))
                continue
            }
            if let index = slot[fact.requestID], case .invocation(var merged) = out[index].record {
                merged.absorb(fact)
                out[index] = (.invocation(merged), out[index].count + 1)
            } else {
                slot[fact.requestID] = out.count
                out.append((record, 1))
            }
        }
        return out
    }

    /// Prepared statements by record kind: cheaper than looking up the cache by SQL text on every record.
    private var statements: [Statement?] = Array(repeating: nil, count: 7)

    /// Invocation upserts by shape (the columns a fact carries): a handful of shapes recur.
    private var invocationStatements: [UInt32: Statement] = [:]

    private func invocationStatement(shape: UInt32) throws(StoreError) -> Statement {
        if let statement = invocationStatements[shape] {
            statement.reset()
            return statement
        }
        let statement = try connection.prepare(RecordStatements.upsertInvocation(shape: shape))
        invocationStatements[shape] = statement
        return statement
    }

    private func statement(for record: StoreRecord, sql: String) throws(StoreError) -> Statement {
        let kind: Int
        switch record {
        case .environment: kind = 0
        case .invocation: kind = 1
        case .proxy: kind = 2
        case .shutdown: kind = 3
        case .flush: kind = 4
        case .log: kind = 5
        case .lifecycle: kind = 6
        }
        if let statement = statements[kind] {
            statement.reset()
            return statement
        }
        let statement = try connection.prepare(sql)
        statements[kind] = statement
        return statement
    }

    /// Adds a `records_dropped` lifecycle row to the open transaction when drops happened since the last one.
    private func writeDropReport(rev: Int64) throws(StoreError) {
        pendingDropReport = nil
        let statistics = queue.statistics
        guard statistics.dropped > reportedDrops else { return }
        let detail =
            "\(statistics.dropped - reportedDrops) records dropped since the last report "
            + "(total: \(statistics.droppedQueueFull) queue full or closed, \(statistics.droppedFailedWrites) failed writes, "
            + "\(statistics.rejected) refused)"
        let event = LifecycleEvent(
            environmentID: lastEnvironmentID, at: epochMicros(), kind: "records_dropped", name: "recorder", detail: detail)
        let (sql, bindings) = RecordStatements.sql(for: .lifecycle(event), rev: rev)
        try connection.run(sql, bindings)
        pendingDropReport = statistics.dropped
    }

    /// At close: one last transaction for drops nobody has reported yet.
    private func reportDropsIfAny() {
        guard queue.statistics.dropped > reportedDrops else { return }
        do {
            _ = try writeBatch(ArraySlice())
            queue.updateStatistics { $0.revision = revision }
        } catch {
            report(error, context: "could not record the dropped-records event")
        }
    }

    private func report(_ error: StoreError, context: String) {
        guard options.logsToStandardError else { return }
        let line = "lantern store: \(context): \(error)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
