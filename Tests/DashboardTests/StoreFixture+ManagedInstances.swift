import Foundation
import LanternStore

/// A Lambda Managed Instances store: one environment running up to four invocations at once, written through
/// the real Recorder as the collector writes them (start = platform.start, end = start + the report's duration,
/// flush reason `report`, `in_flight` counted at each start, no billed duration or memory).
extension StoreFixture {
    /// Oldest first. Start and duration in milliseconds after `base`:
    ///   lmi00001   0 ..300  success  alone           (×1)
    ///   lmi00002 100 ..500  error    with 1, then 3  (×2)
    ///   lmi00003 200 ..250  success  with 1 and 2    (×3)
    ///   lmi00004 600 ..700  timeout  with 5 (proxy)  (×1)
    ///   lmi00005 650 ..     running                  (×2)
    static let managedIDs = [
        "lmi00001-alone-first", "lmi00002-error-overlapped", "lmi00003-short-third", "lmi00004-timeout-proxy",
        "lmi00005-still-running",
    ]

    static let managedPlan: [(startMs: Int64, durationMs: Double?, status: InvocationStatus?, inFlight: Int)] = [
        (0, 300, .success, 1), (100, 400, .error, 2), (200, 50, .success, 3), (600, 100, .timeout, 1), (650, nil, nil, 2),
    ]

    static func managedInstances(in directory: URL, name: String = "lmi.db") async throws -> String {
        let path = directory.appendingPathComponent(name).path
        let recorder = try Recorder(path: path)
        var env = EnvironmentFact(id: "lmi-env-1")
        env.functionName = "orders-lmi"
        env.source = .emulator
        env.startedAt = base
        env.telemetry = .subscribed
        env.initializationType = "lambda-managed-instances"
        env.maxConcurrency = 4
        recorder.record(.environment(env))
        for (i, step) in managedPlan.enumerated() {
            let t0 = base + step.startMs * 1000
            var f = InvocationFact(requestID: managedIDs[i])
            f.environmentID = "lmi-env-1"
            f.functionARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-lmi"
            f.invokedAt = t0
            f.startedAt = t0
            f.timeoutMs = 3000
            f.traceID = "lmi-trace-\(i)"
            f.coldStart = false
            f.inFlight = step.inFlight
            if let duration = step.durationMs, let status = step.status {
                f.status = status
                f.errorType = status == .error ? "Runtime.HandledError" : nil
                f.durationMs = duration
                f.responseAt = t0 + Int64(duration * 800)
                f.flushReason = .report
                f.reportStatus = status.rawValue
            }
            recorder.record(.invocation(f))
        }
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: managedIDs[3], environmentID: "lmi-env-1", transactionID: "txn-proxy-lmi", trigger: .report,
            createdAt: base + 700_000)))
        try await recorder.flush()
        await recorder.close()
        return path
    }
}
