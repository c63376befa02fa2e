import Foundation
import LanternStore
import TestSupport

/// Stores filled through the real Recorder with known data, for rendering and terminal tests.
enum StoreFixture {
    /// The base time of the fixture (a fixed instant, so rows sort the same on every run).
    static let base: Int64 = 1_780_000_000_000_000

    /// Request ids of the known invocations, oldest first. Each starts with a tag so a test can find it.
    static let ids = [
        "aaaa0001-success-agent", "bbbb0002-error-runtimedone", "cccc0003-failure-shutdown",
        "dddd0004-timeout-timeout", "eeee0005-success-cold",
    ]

    /// A store with every status, every flush reason, a cold start, proxies, three shutdown reasons, flushes of
    /// every outcome, log lines and lifecycle events.
    static func known(in directory: URL) async throws -> String {
        let path = directory.appendingPathComponent("known.db").path
        let recorder = try Recorder(path: path)
        var env = EnvironmentFact(id: "env-1")
        env.functionName = "checkout-fn"
        env.memoryMB = 512
        env.source = .emulator
        env.startedAt = base
        env.telemetry = .subscribed
        recorder.record(.environment(env))

        let plan: [(InvocationStatus, FlushReason, Bool)] = [
            (.success, .agent, false), (.error, .runtimeDone, false), (.failure, .shutdown, false),
            (.timeout, .timeout, false), (.success, .agent, true),
        ]
        for (i, (status, reason, cold)) in plan.enumerated() {
            let t0 = base + Int64(i) * 1_000_000
            var f = InvocationFact(requestID: ids[i])
            f.environmentID = "env-1"
            f.functionARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout-fn"
            f.invokedAt = t0
            f.deadlineAt = t0 + 3_000_000
            f.timeoutMs = 3000
            f.traceID = "trace-\(i)"
            f.coldStart = cold
            f.startedAt = t0 + 800
            f.runtimeDoneAt = t0 + 120_000 + Int64(i) * 10_000
            f.status = status
            f.errorType = status == .error ? "Runtime.HandledError" : nil
            f.runtimeDurationMs = 120 + Double(i) * 10
            f.agentFlushedAt = reason == .agent ? t0 + 125_000 : nil
            f.flushReason = reason
            f.releasedAt = t0 + 140_000 + Int64(i) * 10_000
            f.durationMs = 121.5 + Double(i) * 10
            f.billedDurationMs = 122 + i * 10
            f.memorySizeMB = 512
            f.maxMemoryUsedMB = 80 + i
            f.initDurationMs = cold ? 230.4 : nil
            f.producedBytes = 42
            f.agentEvents = 3
            f.agentBytes = 2048
            f.logLines = 2
            recorder.record(.invocation(f))
            recorder.record(.log(LogRecord(environmentID: "env-1", requestID: ids[i], at: t0 + 1000, source: .function,
                                           level: "INFO", message: "handling order \(i)")))
            recorder.record(.log(LogRecord(environmentID: "env-1", requestID: ids[i], at: t0 + 2000, source: .function,
                                           level: status == .success ? "DEBUG" : "ERROR", message: "order \(i) done: \(status.rawValue)")))
        }
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: ids[1], environmentID: "env-1", transactionID: "txn-proxy-error", traceID: "trace-1",
            result: "HTTP 5xx", outcome: "failure", durationMs: 130, trigger: .runtimeDone,
            createdAt: base + 1_000_000 + 131_000, forwardedAt: base + 1_000_000 + 135_000)))
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: ids[2], environmentID: "env-1", transactionID: "txn-proxy-shutdown", trigger: .shutdown,
            createdAt: base + 2_000_000 + 500_000)))
        let outcomes: [(FlushOutcome, Int?, String?)] = [
            (.sent, 202, nil), (.failed, 503, "APM Server answered 503"), (.dropped, nil, "buffer full"),
            (.deferred, nil, nil),
        ]
        for (i, (outcome, code, error)) in outcomes.enumerated() {
            recorder.record(.flush(FlushRecord(
                environmentID: "env-1", requestID: ids[0], startedAt: base + 125_000 + Int64(i) * 1000,
                trigger: .invocation, events: 3 + i, bytes: 2048, httpStatus: code, outcome: outcome,
                durationMs: 4.5, attempt: 1 + i, error: error)))
        }
        for (i, reason) in ["spindown", "timeout", "failure"].enumerated() {
            recorder.record(.shutdown(ShutdownRecord(
                environmentID: "env-\(i + 1)", receivedAt: base + 10_000_000 + Int64(i) * 1_000_000, reason: reason,
                deadlineAt: base + 12_000_000, pendingInvocations: i, proxiesCreated: i == 2 ? 1 : 0,
                flushOutcome: "sent", flushDurationMs: 12.5, exitedAt: base + 10_500_000 + Int64(i) * 1_000_000)))
        }
        for (i, kind) in ["startup", "registered", "subscribed", "terminating"].enumerated() {
            recorder.record(.lifecycle(LifecycleEvent(
                environmentID: "env-1", at: base - 1_000_000 + Int64(i) * 1000, kind: kind, name: "lantern-extension",
                detail: kind == "subscribed" ? "telemetry on :4243" : nil)))
        }
        try await recorder.flush()
        await recorder.close()
        return path
    }

    /// A store with `count` plain invocations, one a second (ids `req-000001`...), written by the Recorder.
    static func sequence(_ count: Int, in directory: URL, name: String = "seq.db") async throws -> (String, Recorder) {
        let path = directory.appendingPathComponent(name).path
        let recorder = try Recorder(path: path)
        for i in 1...max(1, count) where count > 0 {
            recorder.record(.invocation(plain(i)))
        }
        try await recorder.flush()
        return (path, recorder)
    }

    /// Invocation `i` with an id whose first 8 characters, all the list shows of it, differ from every other's:
    /// `live0007-request`.
    static func live(_ i: Int, status: InvocationStatus = .success) -> InvocationFact {
        var f = plain(i, status: status)
        f.requestID = String(format: "live%04d-request", i)
        return f
    }

    /// One finished invocation numbered `i`.
    static func plain(_ i: Int, status: InvocationStatus = .success) -> InvocationFact {
        var f = InvocationFact(requestID: String(format: "req-%06d", i))
        f.invokedAt = base + Int64(i) * 1_000_000
        f.timeoutMs = 3000
        f.status = status
        f.runtimeDurationMs = 10
        f.runtimeDoneAt = base + Int64(i) * 1_000_000 + 10_000
        f.releasedAt = base + Int64(i) * 1_000_000 + 12_000
        f.flushReason = .agent
        f.memorySizeMB = 128
        f.maxMemoryUsedMB = 60
        return f
    }
}
