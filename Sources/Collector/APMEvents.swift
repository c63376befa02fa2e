// Builders for the APM intake v2 lines the collector itself produces: proxy transactions, the
// `platform.report` metricset, function log lines as `log` events, and a metadata line synthesized
// from the Lambda environment when no agent has sent one. Each returns one ndjson line without a
// trailing newline. Plain parameters keep this independent of LambdaWire.

import NIOCore

/// The intake v2 events the collector makes itself.
public enum APMEvents {
    /// A proxy transaction: the agent's registered partial transaction with `result`, `outcome` (nil keeps
    /// what the agent sent) and `duration` (ms) filled in, plus the fields the intake schema requires.
    public static func proxyTransaction(
        from registration: TransactionRegistration, result: String, outcome: String?, durationMs: Double
    ) -> ByteBuffer {
        var transaction: IntakeJSON =
            (try? JSONLine.decode(IntakeJSON.self, from: registration.transaction))?["transaction"]
            ?? ["id": .string(registration.transactionID)]
        if case .object = transaction {} else { transaction = ["id": .string(registration.transactionID)] }
        transaction["id"] = .string(registration.transactionID)
        if transaction["trace_id"] == nil, let traceID = registration.traceID { transaction["trace_id"] = .string(traceID) }
        if transaction["type"] == nil { transaction["type"] = "request" }
        if transaction["span_count"] == nil { transaction["span_count"] = ["started": 0] }
        transaction["result"] = .string(result)
        if let outcome { transaction["outcome"] = .string(outcome) }
        transaction["duration"] = .double(JSONLine.finite(max(0, durationMs)))
        var faas = transaction["faas"] ?? [:]
        if faas["execution"] == nil { faas["execution"] = .string(registration.requestID) }
        transaction["faas"] = faas
        return JSONLine.encode(["transaction": transaction] as IntakeJSON)
    }

    /// The outcome Elastic gives a proxy transaction: `failure` unless the status is `success` (then nil:
    /// leave the agent's value).
    public static func proxyOutcome(status: String) -> String? {
        status == "success" ? nil : "failure"
    }

    /// `platform.report` as the metricset Elastic's extension sends (faas.* samples, memory in bytes).
    public static func metricset(
        requestID: String, timestampMicros: Int64, durationMs: Double, billedDurationMs: Double,
        memorySizeMB: Int, maxMemoryUsedMB: Int, initDurationMs: Double? = nil, timeoutMs: Double? = nil,
        functionARN: String? = nil, functionName: String? = nil, functionVersion: String? = nil
    ) -> ByteBuffer {
        let mebibyte = 1_048_576.0
        let faas = FaaSFields(
            execution: requestID, coldstart: (initDurationMs ?? 0) > 0, id: functionARN, name: functionName,
            version: functionVersion)
        let line = MetricsetLine(
            timestamp: timestampMicros, faas: faas, durationMs: durationMs, billedDurationMs: billedDurationMs,
            memoryTotalBytes: Double(memorySizeMB) * mebibyte,
            memoryFreeBytes: Double(max(0, memorySizeMB - maxMemoryUsedMB)) * mebibyte,
            coldstartDurationMs: initDurationMs, timeoutMs: timeoutMs)
        return JSONLine.written(line.write(into:))
    }

    /// What the collector learns from one function log line.
    public struct LogLineFields: Sendable, Equatable {
        public var level: String?
        public var traceID: String?
        public var transactionID: String?
        public var spanID: String?
    }

    /// The level and trace ids of a function log line: from its JSON fields when the line is a JSON object
    /// (`level`, `log.level`, `levelname`, `severity`; `trace.id`/`trace_id`, `transaction.id`, `span.id`),
    /// or from the `[LEVEL]` prefix of the Lambda runtimes' text format.
    public static func logFields(of message: String) -> LogLineFields {
        var fields = LogLineFields()
        let trimmed = message.drop(while: { $0 == " " || $0 == "\t" })
        if trimmed.first == "{",
            let object = try? JSONLine.decode(IntakeJSON.self, bytes: trimmed.utf8),
            case .object = object
        {
            func lookup(_ paths: [String]) -> String? {
                for path in paths {
                    if let value = object[path]?.stringValue { return value }
                    let parts = path.split(separator: ".").map(String.init)
                    if parts.count == 2, let value = object[parts[0]]?[parts[1]]?.stringValue { return value }
                }
                return nil
            }
            fields.level = lookup(["log.level", "level", "levelname", "severity"])?.lowercased()
            fields.traceID = lookup(["trace.id", "trace_id", "traceId"])
            fields.transactionID = lookup(["transaction.id", "transaction_id"])
            fields.spanID = lookup(["span.id", "span_id"])
        } else if trimmed.first == "[", let close = trimmed.firstIndex(of: "]") {
            let candidate = trimmed[trimmed.index(after: trimmed.startIndex)..<close].lowercased()
            let known = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "critical"]
            if known.contains(candidate) { fields.level = candidate }
        }
        return fields
    }

    /// A function log line as an APM `log` event with faas fields, its level and trace ids when present.
    public static func logEvent(
        message: String, timestampMicros: Int64, requestID: String?, functionARN: String? = nil,
        functionName: String? = nil, functionVersion: String? = nil
    ) -> ByteBuffer {
        let fields = logFields(of: message)
        let faas = FaaSFields(execution: requestID, id: functionARN, name: functionName, version: functionVersion)
        let line = LogEventLine(
            timestamp: timestampMicros, message: message, faas: faas, level: fields.level, traceID: fields.traceID,
            transactionID: fields.transactionID, spanID: fields.spanID)
        return JSONLine.written(line.write(into:))
    }

    /// A metadata line built from the Lambda environment, used when no agent has sent metadata yet.
    public static func metadata(
        functionName: String?, functionVersion: String?, memoryMB: Int?, region: String?, runtime: String?,
        logStream: String?, agentName: String = "lantern", agentVersion: String
    ) -> ByteBuffer {
        var service: IntakeJSON = [
            "name": .string(serviceName(functionName)),
            "agent": ["name": .string(agentName), "version": .string(agentVersion)],
            "framework": ["name": "AWS Lambda"],
        ]
        if let functionVersion { service["version"] = .string(functionVersion) }
        if let logStream { service["node"] = ["configured_name": .string(logStream)] }
        var cloud: IntakeJSON = ["provider": "aws", "service": ["name": "lambda"]]
        if let region { cloud["region"] = .string(region) }
        var labels: IntakeJSON = ["lantern_synthesized_metadata": true]
        if let runtime { labels["lambda_runtime"] = .string(runtime) }
        if let memoryMB { labels["lambda_memory_mb"] = .int(Int64(memoryMB)) }
        let metadata: IntakeJSON = ["service": service, "cloud": cloud, "labels": labels]
        return JSONLine.encode(["metadata": metadata] as IntakeJSON)
    }

    /// Service names must match `^[a-zA-Z0-9 _-]+$` in the intake schema.
    static func serviceName(_ functionName: String?) -> String {
        let name = String(
            (functionName ?? "lambda-function").map { character in
                character.isASCII && (character.isLetter || character.isNumber || " _-".contains(character))
                    ? character : "_"
            })
        return name.isEmpty ? "lambda-function" : String(name.prefix(1024))
    }
}
