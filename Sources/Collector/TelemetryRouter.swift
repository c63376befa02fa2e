// Turns Telemetry API deliveries into what the collector does with them: invocation facts and ends
// (through the InvocationBook), environment facts, platform notes and log lines.

import LambdaWire
import LanternStore
import Logging

/// Applies telemetry deliveries, in order, to the book and the store.
public struct TelemetryRouter: Sendable {
    let book: any TelemetryObserver
    let recorder: (any FactSink)?
    let environmentID: String
    /// Forward function log lines to the APM Server (`ELASTIC_APM_LAMBDA_CAPTURE_LOGS`).
    let forwardLogs: Bool
    let logger: Logger

    public init(book: any TelemetryObserver, recorder: (any FactSink)?, environmentID: String, forwardLogs: Bool, logger: Logger) {
        self.book = book
        self.recorder = recorder
        self.environmentID = environmentID
        self.forwardLogs = forwardLogs
        self.logger = logger
    }

    /// Applies every delivery of `stream` until it ends.
    public func run(_ stream: AsyncStream<[TelemetryEvent]>) async {
        for await delivery in stream { await apply(delivery) }
    }

    /// Applies one delivery. Consecutive log lines go to the book together (one store counter update).
    public func apply(_ delivery: [TelemetryEvent]) async {
        var lines: [(at: Int64, message: String)] = []
        var lineSource = LogSource.function
        func flushLines() async {
            guard !lines.isEmpty else { return }
            await book.functionLogs(lines, source: lineSource, forward: forwardLogs)
            lines.removeAll(keepingCapacity: true)
        }

        for event in delivery {
            let at = WireTime.parseEpochMicros(event.time) ?? epochMicros()
            switch event.record {
            case .function(let line), .extensionLog(let line):
                let source: LogSource = event.record.category == .function ? .function : .extension
                if source != lineSource { await flushLines() }
                lineSource = source
                lines.append((at, Self.text(of: line)))
                continue
            default:
                await flushLines()
            }

            switch event.record {
            case .start(let start):
                await book.platformStarted(requestID: start.requestId, at: at, functionARN: start.functionArn)
            case .runtimeDone(let done):
                await book.runtimeDone(
                    requestID: done.requestId, at: at, status: done.status.rawValue, errorType: done.errorType,
                    durationMs: done.metrics?.durationMs, producedBytes: done.metrics?.producedBytes,
                    responseAt: Self.responseStart(done.spans))
            case .report(let report):
                await book.reported(
                    requestID: report.requestId, at: at, status: report.status.rawValue, errorType: report.errorType,
                    durationMs: report.metrics.durationMs, billedDurationMs: report.metrics.billedDurationMs,
                    memorySizeMB: report.metrics.memorySizeMB, maxMemoryUsedMB: report.metrics.maxMemoryUsedMB,
                    initDurationMs: report.metrics.initDurationMs, responseAt: Self.responseStart(report.spans))
            case .initReport(let report):
                var fact = EnvironmentFact(id: environmentID)
                fact.initDurationMs = report.metrics.durationMs
                recorder?.record(.environment(fact))
            case .initStart(let start):
                var fact = EnvironmentFact(id: environmentID)
                fact.initializationType = start.initializationType.rawValue
                fact.runtime = start.runtimeVersion
                if let bytes = start.instanceMaxMemory { fact.memoryMB = bytes >> 20 }
                fact.logStream = start.instanceId
                recorder?.record(.environment(fact))
            case .logsDropped(let dropped):
                logger.warning("the platform dropped \(dropped.droppedRecords) telemetry records: \(dropped.reason)")
                recorder?.record(.lifecycle(LifecycleEvent(
                    environmentID: environmentID, at: at, kind: "records_dropped", name: "telemetry",
                    detail: "\(dropped.droppedRecords) records, \(dropped.droppedBytes) bytes: \(dropped.reason)")))
            case .fault(let text):
                recorder?.record(.log(LogRecord(
                    environmentID: environmentID, at: at, source: .platform, level: "error", message: text)))
            case .end, .initRuntimeDone, .restoreStart, .restoreRuntimeDone, .restoreReport, .extensionState,
                 .telemetrySubscription, .logsSubscription, .unknown, .function, .extensionLog:
                break
            }
        }
        await flushLines()
    }

    /// The log line as text (JSON-formatted lines are re-encoded compactly).
    static func text(of line: LogLine) -> String {
        switch line {
        case .text(let text):
            var text = Substring(text)
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            return String(text)
        case .json(let value):
            guard let bytes = try? WireJSON.encode(value) else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// When the runtime began its response: the end of the `responseLatency` span.
    static func responseStart(_ spans: [TelemetrySpan]?) -> Int64? {
        guard let span = spans?.first(where: { $0.name == "responseLatency" }),
              let start = WireTime.parseEpochMicros(span.start) else { return nil }
        return start + Int64((span.durationMs * 1000).rounded())
    }
}
