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
    /// The store cannot be written (disk full, locked, read-only, I/O): since when, why, and what was dropped.
    private var outage: (error: StoreError, since: Int64, dropped: Int)?
    /// Records of failed batches and those that came after, newest `holdWhileUnavailable`, kept for the retry.
    private var held: [StoreRecord] = []
    /// Written with the first transaction that succeeds after an outage.
    private var recoveryNote: LifecycleEvent?

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
        var wait = options.reopenDelaysMs.first
        while true {
            if outage != nil {
                // Retry with backoff; flushes and close cut the wait short, new records do not.
                queue.doze(milliseconds: wait)
                wait = min(wait * 2, options.reopenDelaysMs.longest)
                if queue.poll(into: &buffer) {
                    hold(buffer[...])
                    buffer.removeAll(keepingCapacity: true)
                }
                if retryHeld() {
                    wait = options.reopenDelaysMs.first
                } else if queue.isClosing {
                    dropHeld(reason: "closing")
                    break
                }
                continue
            }
            guard case .records = queue.take(into: &buffer, commitDelay: delay) else { break }
            var start = 0
            while start < buffer.count {
                let end = min(start + max(1, options.batchSize), buffer.count)
                if outage == nil {
                    commit(buffer[start..<end])
                } else {
                    hold(buffer[start..<end])
                }
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

    /// Commits one batch, with quick retries (a lock held for a moment). When they fail too the store is in an
    /// outage: said once, the batch is held, and `run` retries with backoff until the store takes it again.
    private func commit(_ batch: ArraySlice<StoreRecord>) {
        let delays = options.retryDelaysMs
        var last: StoreError?
        for attempt in 0...delays.count {
            do {
                let (written, rejected) = try writeBatch(batch)
                didCommit(batch.count, written: written, rejected: rejected)
                pruneIfNeeded()
                return
            } catch {
                last = error
                queue.updateStatistics { statistics in
                    statistics.failedAttempts += 1
                    statistics.lastError = error
                }
                if attempt < delays.count { usleep(UInt32(clamping: max(0, delays[attempt]) * 1_000)) }
            }
        }
        if let last { beginOutage(last) }
        hold(batch)
    }

    /// Bookkeeping of a committed batch (rows refused by a constraint count as dropped).
    private func didCommit(_ count: Int, written: Int, rejected: Int) {
        let revision = self.revision
        queue.finished(count) { statistics in
            statistics.committed += written
            statistics.rejected += rejected
            statistics.dropped += rejected
            statistics.batches += 1
            statistics.revision = revision
        }
    }

    /// One line, one count, and every flush waiting hears it at once.
    private func beginOutage(_ error: StoreError) {
        guard outage == nil else { return }
        outage = (error, epochMicros(), 0)
        queue.updateStatistics { $0.failedBatches += 1 }
        queue.markUnavailable(error)
        report(error, context: "the store cannot be written; holding the newest \(options.holdWhileUnavailable) records and retrying until it can")
    }

    /// Keeps `records` for the retry; beyond the hold limit the oldest are dropped and counted.
    private func hold(_ records: ArraySlice<StoreRecord>) {
        held.append(contentsOf: records)
        let excess = held.count - max(0, options.holdWhileUnavailable)
        guard excess > 0 else { return }
        held.removeFirst(excess)
        outage?.dropped += excess
        queue.droppedHeld(excess, error: outage?.error)
    }

    /// Tries the held records once, in batches, the first with a `store_recovered` row; true when all went in.
    private func retryHeld() -> Bool {
        guard let current = outage else { return true }
        let seconds = Double(epochMicros() - current.since) / 1_000_000
        let detail = "store writable again after \(Int(seconds.rounded())) s (\(current.error.message)); \(current.dropped) records dropped meanwhile"
        recoveryNote = LifecycleEvent(
            environmentID: lastEnvironmentID, at: epochMicros(), kind: "store_recovered", name: "recorder", detail: detail)
        // An empty batch still carries the note (nothing was held: the failed batch was dropped at the limit).
        repeat {
            let batch = held.prefix(max(1, options.batchSize))
            do {
                let (written, rejected) = try writeBatch(batch)
                didCommit(batch.count, written: written, rejected: rejected)
                held.removeFirst(batch.count)
            } catch {
                queue.updateStatistics { statistics in
                    statistics.failedAttempts += 1
                    statistics.lastError = error
                }
                return false
            }
        } while !held.isEmpty
        outage = nil
        queue.markUnavailable(nil)
        report(StoreError(code: .other, message: detail), context: "recording resumed")
        pruneIfNeeded()
        return true
    }

    /// Closing while the store still cannot be written: what is held is dropped and counted.
    private func dropHeld(reason: String) {
        guard !held.isEmpty else { return }
        let count = held.count
        held = []
        let error = outage?.error
        queue.droppedHeld(count, error: error)
        if let error { report(error, context: "\(reason): dropping \(count) records the store could not take") }
    }

    /// Writes `batch` in one transaction. Returns (rows written, records refused by a constraint).
    private func writeBatch(_ batch: ArraySlice<StoreRecord>) throws(StoreError) -> (Int, Int) {
        let rev = revision + 1
        try connection.execute("BEGIN IMMEDIATE")
        var rejected = 0
        var wroteLogs = false
        do {
            try writeDropReport(rev: rev)
            if let note = recoveryNote {
                let (sql, bindings) = RecordStatements.sql(for: .lifecycle(note), rev: rev)
                try connection.run(sql, bindings)
            }
            for (record, count) in Self.coalesced(batch) {
                do throws(StoreError) {
                    if let violation = record.checkViolation { throw StoreError(code: .constraint, message: violation) }
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
        recoveryNote = nil
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
        // Facts are merged in a separate array, in place (a fact's storage is copied once, at its first merge,
        // since the batch still holds it).
        enum Slot { case record(StoreRecord), fact(Int) }
        var slots: [Slot] = []
        slots.reserveCapacity(batch.count)
        var facts: [(fact: InvocationFact, count: Int)] = []
        var index: [String: Int] = [:]
        for record in batch {
            guard case .invocation(let fact) = record else {
                slots.append(.record(record))
                continue
            }
            if let at = index[fact.requestID] {
                facts[at].fact.absorb(fact)
                facts[at].count += 1
            } else {
                index[fact.requestID] = facts.count
                slots.append(.fact(facts.count))
                facts.append((fact, 1))
            }
        }
        return slots.map { slot in
            switch slot {
            case .record(let record): (record, 1)
            case .fact(let at): (.invocation(facts[at].fact), facts[at].count)
            }
        }
    }

    /// Prepared statements by record kind: cheaper than looking up the cache by SQL text on every record.
    private var statements: [Statement?] = Array(repeating: nil, count: 7)

    /// Invocation upserts by shape (the columns a fact carries): a handful of shapes recur.
    private var invocationStatements: [UInt32: Statement] = [:]

    private func invocationStatement(shape: UInt32) throws(StoreError) -> Statement {
        if let statement = invocationStatements[shape] {
            // A shape's statement has exactly the parameters its upsert binds (request id, the shape's columns,
            // the revision), so every run binds them all.
            statement.resetKeepingBindings()
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
