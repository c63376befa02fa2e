// The seam between the telemetry listener's router and the book that keeps per-request state. Classic Lambda's
// `InvocationBook` and Managed Instances' `ConcurrentBook` both take the same platform facts; what they do with
// them differs (one ends the invocation the run loop waits on, the other closes one of many open ones).

import LanternStore

/// Told by the `TelemetryRouter` what the platform reported, in delivery order.
public protocol TelemetryObserver: Sendable {
    /// `platform.start`: the function began `requestID`.
    func platformStarted(requestID: String, at: Int64, functionARN: String?) async
    /// `platform.runtimeDone` (classic Lambda only).
    func runtimeDone(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double?,
        producedBytes: Int?, responseAt: Int64?) async
    /// `platform.report`; `responseAt` is the end of its `responseLatency` span when it has one.
    func reported(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double,
        billedDurationMs: Int?, memorySizeMB: Int?, maxMemoryUsedMB: Int?, initDurationMs: Double?,
        responseAt: Int64?) async
    /// Consecutive function or extension log lines of one delivery; `forward` sends function lines to the APM Server.
    func functionLogs(_ lines: [(at: Int64, message: String)], source: LogSource, forward: Bool) async
}

/// What a book does at SHUTDOWN, so one shutdown sequence serves both books.
public protocol ShutdownBook: Sendable {
    /// Waits (bounded) for the `platform.report`s of invocations still open.
    func awaitReports(timeout: Duration) async
    /// Makes the proxies still owed and closes the book.
    func shutdown(reason: String, at: Int64, deadlineMs: Int64) async -> ShutdownSummary
    /// A send that included every proxy made so far succeeded.
    func proxiesForwarded(at: Int64) async
    /// Where lifecycle facts go; nil when `LANTERN_FORWARD_LIFECYCLE=false`.
    var lifecycle: (any EventForwarding)? { get }
}

extension InvocationBook: TelemetryObserver, ShutdownBook {}
