import Foundation
import Synchronization
import Testing
import TestSupport
@testable import LanternStore

@Suite("Recorder")
struct RecorderTests {
    @Test("100,000 records from concurrent tasks land exactly once while a reader tails them")
    func concurrentWritersAndTailingReader() async throws {
        let path = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.maxQueue = 200_000
        let recorder = try Recorder(path: path, options: options)
        let tasks = 4
        let perTask = 25_000  // two facts per request: 12,500 requests per task
        let requests = tasks * perTask / 2

        // The reader follows the store on its own connection while the writers run.
        let reader = Task.detached { () throws -> Int in
            let history = try History(path: path)
            let cursor = try TailCursor(history: history, fromRev: 0)
            var complete = Set<String>()
            let deadline = ContinuousClock.now + .seconds(120)
            while complete.count < requests && ContinuousClock.now < deadline {
                if let changes = try cursor.poll() {
                    for row in changes.invocations where row.agentEvents == 3 && row.status == .success {
                        complete.insert(row.requestID)
                    }
                } else {
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            return complete.count
        }

        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in 0..<perTask {
                        var fact = InvocationFact(requestID: "t\(task)-\(index / 2)")
                        if index.isMultiple(of: 2) {
                            fact.invokedAt = Int64(index)
                            fact.agentEvents = 1
                        } else {
                            fact.status = .success
                            fact.agentEvents = 2
                        }
                        #expect(recorder.record(.invocation(fact)))
                    }
                }
            }
        }
        try await recorder.flush()
        let statistics = recorder.statistics
        #expect(statistics.accepted == tasks * perTask)
        #expect(statistics.committed == tasks * perTask)
        #expect(statistics.dropped == 0)
        #expect(statistics.failedAttempts == 0)

        let seenByReader = try await reader.value
        #expect(seenByReader == requests)

        await recorder.close()
        let history = try History(path: path)
        #expect(try history.count(.invocations) == requests)
        let sums = try history.query(sql: "SELECT sum(agent_events), count(invoked_at), count(status) FROM invocations")
        #expect(sums.rows.first == [.integer(Int64(requests * 3)), .integer(Int64(requests)), .integer(Int64(requests))])
    }

    @Test("close() commits everything accepted, is idempotent, and later records are refused and counted")
    func closeLosesNothing() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        for index in 0..<10_000 {
            recorder.record(.log(LogRecord(at: Int64(index), source: .function, message: "line \(index)")))
        }
        await recorder.close()
        await recorder.close()
        #expect(recorder.statistics.committed == 10_000)
        #expect(recorder.record(.log(LogRecord(at: 1, source: .function, message: "late"))) == false)
        #expect(recorder.statistics.dropped == 1)
        #expect(try History(path: path).count(.logs) == 10_000)
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(walSize == 0, "close() checkpoints the WAL (TRUNCATE)")
    }

    @Test("commitSoon ends the commit delay without waiting: the record is in the file long before the delay is over")
    func commitSoonSkipsTheDelay() async throws {
        let path = try StoreFixtures.storePath("soon")
        var options = StoreFixtures.quietOptions()
        options.commitDelayMs = 3_000
        let recorder = try Recorder(path: path, options: options)
        recorder.record(.invocation(StoreFixtures.invocation("first", at: 1)))
        try await recorder.flush()
        recorder.record(.invocation(StoreFixtures.invocation("released", at: 2)))
        recorder.commitSoon()
        let started = ContinuousClock.now
        let committed = await eventually(timeout: .seconds(2)) { (try? History(path: path).count(.invocations)) == 2 }
        #expect(committed, "still in the commit delay")
        #expect(ContinuousClock.now - started < .seconds(2))
        await recorder.close()
    }

    @Test("the writer skips SQLite's CHECKs, yet every value of every checked column it writes passes them")
    func writerKeepsTheChecks() async throws {
        let path = try StoreFixtures.storePath("checks")
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        for (index, source) in EnvironmentSource.allCases.enumerated() {
            var environment = EnvironmentFact(id: "env-\(index)")
            environment.source = source
            environment.telemetry = TelemetryState.allCases[index % TelemetryState.allCases.count]
            recorder.record(.environment(environment))
        }
        var at: Int64 = 1
        for status in InvocationStatus.allCases {
            for reason in FlushReason.allCases {
                at += 1
                var fact = StoreFixtures.invocation("r\(at)", at: at, status: status)
                fact.flushReason = reason
                fact.coldStart = at % 2 == 0
                recorder.record(.invocation(fact))
            }
        }
        for (index, trigger) in ProxyTrigger.allCases.enumerated() {
            let outcome = ["success", "failure", "unknown", nil][index % 4]
            recorder.record(.proxy(ProxyTransactionRecord(
                requestID: "p\(index)", transactionID: "tx\(index)", outcome: outcome, trigger: trigger, createdAt: 5)))
        }
        for trigger in FlushTrigger.allCases {
            for outcome in FlushOutcome.allCases {
                recorder.record(.flush(FlushRecord(startedAt: 9, trigger: trigger, events: 1, bytes: 1, outcome: outcome)))
            }
        }
        for source in LogSource.allCases { recorder.record(.log(LogRecord(at: 3, source: source, message: "m"))) }
        // The one checked column that is free text: refused by the writer itself, as SQLite would.
        recorder.record(.proxy(ProxyTransactionRecord(requestID: "bad", transactionID: "t", outcome: "weird", trigger: .timeout, createdAt: 1)))
        try await recorder.flush()
        #expect(recorder.statistics.rejected == 1)
        await recorder.close()
        // integrity_check evaluates every CHECK of every stored row (on a writing connection: a read-only one
        // leaves CHECKs out).
        let connection = try Connection(path: path, mode: .readWriteCreate)
        #expect(try connection.rows("PRAGMA integrity_check").compactMap { $0[0].string } == ["ok"])
        connection.close()
        #expect(try History(path: path).count(.invocations) == InvocationStatus.allCases.count * FlushReason.allCases.count)
    }

    @Test("minimum commit interval: a commitSoon right after a commit leaves the delay standing; a later one commits at once")
    func commitSoonWithinTheMinimumInterval() async throws {
        let path = try StoreFixtures.storePath("interval")
        var options = StoreFixtures.quietOptions()
        options.commitDelayMs = 1_500
        options.minimumCommitIntervalMs = 1_500
        let recorder = try Recorder(path: path, options: options)
        recorder.record(.invocation(StoreFixtures.invocation("first", at: 1)))
        recorder.commitSoon()
        #expect(await eventually(timeout: .seconds(1)) { recorder.statistics.committed == 1 }, "the first nudge commits at once")
        // Within the interval: the nudge is ignored, the record waits for the delay (and is not lost).
        recorder.record(.invocation(StoreFixtures.invocation("second", at: 2)))
        recorder.commitSoon()
        try await Task.sleep(for: .milliseconds(400))
        #expect(recorder.statistics.committed == 1, "committed inside the minimum interval")
        #expect(await eventually(timeout: .seconds(3)) { recorder.statistics.committed == 2 }, "the delay still commits it")
        // Past the interval: a nudge commits at once again.
        try await Task.sleep(for: .milliseconds(1_600))
        recorder.record(.invocation(StoreFixtures.invocation("third", at: 3)))
        recorder.commitSoon()
        #expect(await eventually(timeout: .seconds(1)) { recorder.statistics.committed == 3 }, "a nudge after the interval commits at once")
        #expect(try History(path: path).count(.invocations) == 3)
        await recorder.close()
    }

    @Test("commit delay: records that come during it share one transaction; flush and close do not wait for it")
    func commitDelay() async throws {
        let path = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.commitDelayMs = 60_000
        let recorder = try Recorder(path: path, options: options)
        for index in 0..<3 { recorder.record(.invocation(StoreFixtures.invocation("r\(index)", at: Int64(index)))) }
        try await Task.sleep(for: .milliseconds(100))
        // Still inside the delay: nothing committed yet.
        #expect(recorder.statistics.committed == 0)
        // A flush ends the delay at once (the 5 s race only guards against waiting the full minute).
        let flushedFirst = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await recorder.flush(); return true }
            group.addTask { try await Task.sleep(for: .seconds(5)); return false }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        #expect(flushedFirst)
        #expect(recorder.statistics.committed == 3 && recorder.statistics.batches == 1)
        // Records left inside a delay at close are committed, not lost.
        for index in 3..<6 { recorder.record(.invocation(StoreFixtures.invocation("r\(index)", at: Int64(index)))) }
        await recorder.close()
        #expect(recorder.statistics.committed == 6 && recorder.statistics.batches == 2)
        #expect(try History(path: path).count(.invocations) == 6)
    }

    @Test("opening in the background: records taken before the store exists are committed")
    func backgroundOpen() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(openingInBackground: path, options: StoreFixtures.quietOptions()) { error in
            Issue.record("unexpected open failure: \(error)")
        }
        for index in 0..<50 { recorder.record(.invocation(StoreFixtures.invocation("r\(index)", at: Int64(index)))) }
        try await recorder.flush()
        #expect(recorder.statistics.committed == 50)
        await recorder.close()
        #expect(try History(path: path).count(.invocations) == 50)
    }

    /// Options that retry the open quickly (the tests wait for the fault to clear).
    static func quickReopen() -> Recorder.Options {
        var options = StoreFixtures.quietOptions()
        options.reopenDelaysMs = (20, 100)
        options.busyTimeoutMs = 50
        return options
    }

    @Test("background open, a folder that is not there yet: reported once, records held, recording resumes when it appears")
    func backgroundOpenResumes() async throws {
        let folder = try TestPaths.temporaryDirectory("lantern-store").appendingPathComponent("later")
        let path = folder.appendingPathComponent("lantern.db").path
        let failures = Mutex<[StoreError]>([])
        let recoveries = Mutex<[String]>([])
        let recorder = try Recorder(
            openingInBackground: path, options: Self.quickReopen(),
            onFailure: { error in failures.withLock { $0.append(error) } },
            onRecovery: { detail in recoveries.withLock { $0.append(detail) } })
        recorder.record(.invocation(StoreFixtures.invocation("early", at: 1)))
        await #expect(throws: StoreError.self) { try await recorder.flush() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorder.record(.invocation(StoreFixtures.invocation("during", at: 2))))
        #expect(failures.withLock { $0.count } == 1)
        #expect(failures.withLock { $0.first?.code } == .cannotOpen)

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let resumed = await eventually(timeout: .seconds(10)) { (try? await recorder.flush()) != nil }
        #expect(resumed)
        recorder.record(.invocation(StoreFixtures.invocation("after", at: 3)))
        await recorder.close()
        #expect(recorder.statistics.dropped == 0)
        let history = try History(path: path)
        #expect(try history.count(.invocations) == 3)
        let kinds = try history.query(sql: "SELECT kind FROM lifecycle_events").rows.map { $0.first }
        #expect(kinds.contains(.text("store_recovered")))
        #expect(recoveries.withLock { $0.count } == 1)
    }

    @Test("background open while another process holds the write lock (sqlite3 BEGIN EXCLUSIVE): recording resumes when it lets go",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs the sqlite3 command"))
    func backgroundOpenWaitsForTheLock() async throws {
        let path = try StoreFixtures.storePath("locked")
        let first = try Recorder(path: path, options: StoreFixtures.quietOptions())
        first.record(.invocation(StoreFixtures.invocation("before", at: 1)))
        await first.close()

        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [path]
        let input = Pipe()
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        input.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nINSERT INTO lifecycle_events (at, kind, rev) VALUES (1, 'holder', 0);\n".utf8))
        try await Task.sleep(for: .milliseconds(300))

        let failures = Mutex<[StoreError]>([])
        let recorder = try Recorder(
            openingInBackground: path, options: Self.quickReopen(),
            onFailure: { error in failures.withLock { $0.append(error) } })
        for index in 0..<50 { recorder.record(.invocation(StoreFixtures.invocation("held-\(index)", at: Int64(10 + index)))) }
        let blocked = await eventually(timeout: .seconds(5)) { failures.withLock { !$0.isEmpty } }
        #expect(blocked, "the open did not notice the lock")
        #expect(failures.withLock { $0.first?.code } == .busy)

        input.fileHandleForWriting.write(Data("COMMIT;\n.quit\n".utf8))
        holder.waitUntilExit()
        let resumed = await eventually(timeout: .seconds(10)) { (try? await recorder.flush()) != nil }
        #expect(resumed)
        await recorder.close()
        #expect(recorder.statistics.dropped == 0)
        #expect(try History(path: path).count(.invocations) == 51)
    }

    @Test("a corrupt store is moved aside, never deleted, and a new one is started")
    func corruptStoreMovedAside() async throws {
        let path = try StoreFixtures.storePath("corrupt")
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let recorder = try Recorder(openingInBackground: path, options: Self.quickReopen(), onFailure: { _ in })
        recorder.record(.invocation(StoreFixtures.invocation("fresh", at: 1)))
        try await recorder.flush()
        await recorder.close()
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        try #require(aside.count == 1, "\(aside)")
        #expect(try Data(contentsOf: folder.appendingPathComponent(aside[0])) == garbage)
        let history = try History(path: path)
        #expect(try history.count(.invocations) == 1)
        let kinds = try history.query(sql: "SELECT kind FROM lifecycle_events").rows.map { $0.first }
        #expect(kinds.contains(.text("store_moved_aside")))
    }

    @Test("another application's database is left alone: reported once, records dropped and counted, never retried")
    func foreignDatabaseLeftAlone() async throws {
        let path = try StoreFixtures.storePath("foreign")
        try StoreFixtures.exec(path, "CREATE TABLE theirs (x); INSERT INTO theirs VALUES (1);")
        let before = try StoreFixtures.fileBytes(path)
        let failures = Mutex<[StoreError]>([])
        let recorder = try Recorder(openingInBackground: path, options: Self.quickReopen()) { error in
            failures.withLock { $0.append(error) }
        }
        recorder.record(.invocation(StoreFixtures.invocation("early", at: 1)))
        await #expect(throws: StoreError.self) { try await recorder.flush() }
        #expect(failures.withLock { $0.count } == 1)
        #expect(failures.withLock { $0.first?.code } == .notAStore)
        #expect(recorder.record(.invocation(StoreFixtures.invocation("late", at: 2))) == false)
        #expect(recorder.statistics.dropped == 2 && recorder.statistics.committed == 0)
        await recorder.close()
        #expect(try StoreFixtures.fileBytes(path) == before)
    }

    @Test("a path whose directory cannot be written is a reported error, not a crash")
    func unwritableLocation() throws {
        let directory = try TestPaths.temporaryDirectory("lantern-store")
        // A regular file where a directory should be: unwritable even for root.
        let blocker = directory.appendingPathComponent("not-a-directory")
        _ = FileManager.default.createFile(atPath: blocker.path, contents: Data("x".utf8))
        #expect {
            try Recorder(path: blocker.appendingPathComponent("store.db").path, options: StoreFixtures.quietOptions())
        } throws: { ($0 as? StoreError)?.code == .cannotOpen }

        if getuid() != 0 {
            let readOnly = directory.appendingPathComponent("read-only")
            try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly.path) }
            #expect {
                try Recorder(path: readOnly.appendingPathComponent("store.db").path, options: StoreFixtures.quietOptions())
            } throws: { $0 is StoreError }
        }
    }

    @Test("a full store is reported, its records held (flushes fail at once meanwhile), dropped and counted if it never frees up")
    func fullStore() async throws {
        let path = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.maxStoreBytes = 256 * 1024
        options.retryDelaysMs = [1, 1]
        options.reopenDelaysMs = (10, 50)
        options.batchSize = 10
        let recorder = try Recorder(path: path, options: options)
        let big = String(repeating: "x", count: 20_000)
        for index in 0..<100 {
            recorder.record(.log(LogRecord(at: Int64(index), source: .function, message: big)))
        }
        await #expect { try await recorder.flush() } throws: { ($0 as? StoreError)?.code == .full }
        #expect(recorder.statistics.failedBatches > 0)
        #expect(recorder.statistics.lastError?.code == .full)
        await recorder.close()
        let statistics = recorder.statistics
        #expect(statistics.droppedFailedWrites > 0)
        #expect(statistics.committed + statistics.droppedFailedWrites == 100)
    }

    @Test("a store locked mid-run: one report, the batch held (not dropped), written with a store_recovered row when the lock goes")
    func lockedStoreThenRecovery() async throws {
        let path = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.busyTimeoutMs = 20
        options.retryDelaysMs = [5, 5]
        options.reopenDelaysMs = (10, 50)
        options.maxQueue = 5
        let recorder = try Recorder(path: path, options: options)
        recorder.record(.environment(EnvironmentFact(id: "env-locked")))
        try await recorder.flush()

        let locker = try Connection(path: path, mode: .readWrite)
        try locker.execute("BEGIN EXCLUSIVE")
        var accepted = 0
        for index in 0..<100 {
            if recorder.record(.lifecycle(LifecycleEvent(at: Int64(index), kind: "hook", name: "n\(index)"))) { accepted += 1 }
        }
        await #expect { try await recorder.flush() } throws: { ($0 as? StoreError)?.code == .busy }
        #expect(recorder.statistics.failedBatches == 1, "one outage, one count")
        #expect(recorder.statistics.droppedFailedWrites == 0, "held, not dropped")
        try locker.execute("COMMIT")
        locker.close()

        let resumed = await eventually(timeout: .seconds(10)) { (try? await recorder.flush()) != nil }
        #expect(resumed)
        await recorder.close()
        let statistics = recorder.statistics
        #expect(statistics.droppedQueueFull == 100 - accepted)
        #expect(statistics.droppedFailedWrites == 0)

        let history = try History(path: path)
        var filter = HistoryFilter()
        filter.kind = "hook"
        #expect(try history.lifecycleEvents(filter: filter).count == accepted)
        filter.kind = "store_recovered"
        let recovered = try history.lifecycleEvents(filter: filter)
        #expect(recovered.count == 1)
        #expect(recovered.first?.environmentID == "env-locked")
        filter.kind = "records_dropped"
        let reports = try history.lifecycleEvents(filter: filter)
        #expect(reports.count == 1)
        #expect(try history.summary().recordsDropped == 100 - accepted)
    }

    @Test("upserts: nil keeps, counters add, a second proxy is ignored, a bad record is refused alone")
    func upsertRules() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        var environment = EnvironmentFact(id: "env")
        environment.source = .emulator
        environment.functionName = "fn"
        recorder.record(.environment(environment))
        var later = EnvironmentFact(id: "env")
        later.shutdownReason = "spindown"
        recorder.record(.environment(later))

        var first = StoreFixtures.invocation("r1", at: 10, status: nil)
        first.agentBytes = 100
        first.logLines = 2
        recorder.record(.invocation(first))
        var second = InvocationFact(requestID: "r1")
        second.status = .timeout
        second.agentBytes = 50
        recorder.record(.invocation(second))

        recorder.record(.proxy(ProxyTransactionRecord(requestID: "r1", transactionID: "tx-1", trigger: .runtimeDone, createdAt: 20)))
        recorder.record(.proxy(ProxyTransactionRecord(requestID: "r1", transactionID: "tx-2", trigger: .shutdown, createdAt: 30)))
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: "r1", transactionID: "tx-3", trigger: .shutdown, createdAt: 40, forwardedAt: 45)))
        // `outcome` must be success/failure/unknown: this one is refused, its batch-mates are not.
        recorder.record(.proxy(ProxyTransactionRecord(requestID: "r2", transactionID: "tx", outcome: "weird", trigger: .shutdown, createdAt: 1)))
        recorder.record(.flush(FlushRecord(startedAt: 50, trigger: .invocation, events: 3, bytes: 300, outcome: .sent)))
        try await recorder.flush()
        #expect(recorder.statistics.rejected == 1)
        await recorder.close()

        let history = try History(path: path)
        let env = try #require(try history.environments().first)
        #expect(env.source == .emulator && env.functionName == "fn" && env.shutdownReason == "spindown")
        let invocation = try #require(try history.invocation(requestID: "r1"))
        #expect(invocation.invokedAt == 10 && invocation.status == .timeout)
        #expect(invocation.agentBytes == 150 && invocation.logLines == 2)
        let proxies = try history.proxies()
        #expect(proxies.count == 1)
        #expect(proxies.first?.transactionID == "tx-1" && proxies.first?.trigger == .runtimeDone)
        #expect(proxies.first?.forwardedAt == 45, "a later record may only fill in forwarded_at")
        #expect(try history.flushes().count == 1)
    }

    @Test("one request's facts folded into one upsert store the same row as upserting them one by one")
    func coalescedFactsMatchSeparateUpserts() async throws {
        var facts: [InvocationFact] = []
        var invoke = StoreFixtures.invocation("r1", at: 10, status: nil)
        invoke.agentBytes = 100
        facts.append(invoke)
        var agent = InvocationFact(requestID: "r1")
        agent.agentEvents = 3
        agent.agentBytes = 40
        agent.agentFlushedAt = 20
        facts.append(agent)
        facts.append(StoreFixtures.invocation("r2", at: 15))
        var done = InvocationFact(requestID: "r1")
        done.status = .error
        done.errorType = "Boom"
        done.logLines = 2
        facts.append(done)
        var report = InvocationFact(requestID: "r1")
        report.status = .timeout
        report.durationMs = 12.5
        report.agentBytes = 1
        facts.append(report)

        // One transaction (a commit delay gathers them) versus one transaction per fact.
        let together = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.commitDelayMs = 60_000
        let gathered = try Recorder(path: together, options: options)
        for fact in facts { gathered.record(.invocation(fact)) }
        await gathered.close()
        #expect(gathered.statistics.batches == 1 && gathered.statistics.committed == facts.count)

        let apart = try StoreFixtures.storePath()
        let separate = try Recorder(path: apart, options: StoreFixtures.quietOptions())
        for fact in facts {
            separate.record(.invocation(fact))
            try await separate.flush()
        }
        await separate.close()
        #expect(separate.statistics.batches == facts.count)

        func rows(_ path: String) throws -> [[String: String]] {
            let connection = try Connection(path: path, mode: .readOnly)
            defer { connection.close() }
            let columns = RecordStatements.invocationColumns
            return try connection.rows("SELECT \(columns.joined(separator: ", ")) FROM invocations ORDER BY request_id").map { row in
                Dictionary(uniqueKeysWithValues: columns.indices.map { (columns[$0], "\(row[$0])") })
            }
        }
        let merged = try rows(together)
        #expect(merged == (try rows(apart)))
        #expect(merged.first?["agent_bytes"] == "\(SQLValue.integer(141))")
        #expect(RecordWriter.coalesced(facts.map { .invocation($0) }[...]).map(\.count) == [4, 1])
    }

    @Test("a batch with more invocations open than the writer looks back over still folds each request's facts once")
    func coalescedManyOpenInvocations() {
        // 40 requests, their facts interleaved round-robin (as under Managed Instances' concurrency), other records
        // between them, and each request's id a distinct String (no shared storage to compare by pointer).
        var batch: [StoreRecord] = []
        for round in 0..<5 {
            for request in 0..<40 {
                var fact = InvocationFact(requestID: String("req-\(request)".utf8.map { Character(UnicodeScalar($0)) }))
                fact.agentEvents = round + 1
                batch.append(.invocation(fact))
                if request % 7 == 0 { batch.append(.lifecycle(LifecycleEvent(environmentID: nil, at: Int64(round), kind: "k", name: "n"))) }
            }
        }
        let folded = RecordWriter.coalesced(batch[...])
        var expected: [(id: String?, count: Int)] = []
        var seen: Set<String> = []
        for record in batch {
            if case .invocation(let fact) = record {
                if seen.insert(fact.requestID).inserted { expected.append((fact.requestID, 5)) }
            } else {
                expected.append((nil, 1))
            }
        }
        #expect(folded.count == expected.count)
        for (got, want) in zip(folded, expected) {
            if case .invocation(let fact) = got.record {
                #expect(fact.requestID == want.id && got.count == want.count && fact.agentEvents == 15)
            } else {
                #expect(want.id == nil && got.count == 1)
            }
        }
    }

    @Test("an invocation upsert names only the columns its fact carries, so unchanged indexes are not rewritten")
    func upsertNamesCarriedColumns() async throws {
        var report = InvocationFact(requestID: "r1")
        report.durationMs = 12.5
        report.logLines = 2
        let upsert = RecordStatements.invocationUpsert(report, rev: 7)
        let sql = RecordStatements.upsertInvocation(shape: upsert.shape)
        #expect(upsert.bindings == [.text("r1"), .real(12.5), .integer(2), .integer(7)])
        #expect(sql.contains("duration_ms = excluded.duration_ms") && sql.contains("log_lines = log_lines + excluded.log_lines"))
        for column in ["status", "invoked_at", "environment_id", "flush_reason", "cold_start", "agent_events"] {
            #expect(!sql.contains(column), "\(column) is not carried: \(sql)")
        }

        // Against a store: the carried columns change, the rest keep their values, counters add up.
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        var invoke = InvocationFact(requestID: "r1")
        invoke.invokedAt = 100
        invoke.status = .success
        invoke.coldStart = false
        invoke.logLines = 1
        recorder.record(.invocation(invoke))
        try await recorder.flush()
        recorder.record(.invocation(report))
        await recorder.close()
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        let row = try #require(try connection.rows(
            "SELECT invoked_at, status, cold_start, duration_ms, log_lines FROM invocations WHERE request_id = 'r1'").first)
        #expect(row == [.integer(100), .text("success"), .integer(0), .real(12.5), .integer(3)])
    }

    @Test("log retention keeps the newest rows")
    func logRetention() async throws {
        let path = try StoreFixtures.storePath()
        var options = StoreFixtures.quietOptions()
        options.logRetention = 10
        let recorder = try Recorder(path: path, options: options)
        for index in 0..<25 {
            recorder.record(.log(LogRecord(requestID: "r", at: Int64(index), source: .platform, message: "m\(index)")))
        }
        await recorder.close()
        let logs = try History(path: path).logs(limit: nil)
        #expect(logs.map(\.message) == (15..<25).map { "m\($0)" })
    }
}
