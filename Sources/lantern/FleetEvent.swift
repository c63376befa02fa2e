// One line of a fleet export read back for `lantern import`: the `lantern.lifecycle` log events the collector
// forwards (Sources/Collector/APMEvents+Lifecycle.swift writes them; the label names are the contract). A line
// is either an Elasticsearch document (`_source` of a search hit, or the whole hit), where string labels are under
// `labels` and numbers under `numeric_labels`, nested or dotted; or an intake line as the recording APM Server
// stores it (`{"log": {...}}`, numbers and strings together under `labels`).

import Collector
import Foundation
import LanternStore

/// What one line of an import file holds.
enum FleetLine: Equatable {
    /// A lifecycle event, as store facts.
    case facts(ImportedFacts)
    /// Another event (metadata, a transaction, a function's log line...): skipped and counted.
    case other
    /// Nothing on the line.
    case blank
}

/// A line that is neither a lifecycle event nor another event: why.
struct FleetLineError: Error, Equatable, CustomStringConvertible {
    var description: String
}

enum FleetEvent {
    static let intakeKeys: Set<String> = ["metadata", "transaction", "span", "error", "metricset", "log"]

    static func parse(_ line: Data) throws(FleetLineError) -> FleetLine {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .blank }
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            throw FleetLineError(description: "not a JSON object")
        }
        var document = object
        if let source = object["_source"] as? [String: Any] {
            document = source
        } else if object.count == 1, let key = object.keys.first, intakeKeys.contains(key) {
            guard key == "log", let log = object["log"] as? [String: Any] else { return .other }
            document = log
        }
        let fields = Fields(document)
        guard fields.string("event.dataset") == LifecycleDataset.name else { return .other }
        return .facts(try facts(fields))
    }

    private static func facts(_ fields: Fields) throws(FleetLineError) -> ImportedFacts {
        guard let kind = fields.label("lantern_kind") else {
            throw FleetLineError(description: "lifecycle event without labels.lantern_kind")
        }
        guard let environmentID = fields.label("lantern_environment"), !environmentID.isEmpty else {
            throw FleetLineError(description: "lifecycle event without labels.lantern_environment")
        }
        guard let at = fields.timestamp() else {
            throw FleetLineError(description: "lifecycle event without a readable @timestamp")
        }
        var environment = EnvironmentFact(id: environmentID)
        environment.functionName = fields.string("faas.name")
        environment.functionVersion = fields.string("faas.version")
        environment.initializationType = fields.label("lantern_initialization_type")
        environment.maxConcurrency = fields.number("lantern_max_concurrency").map { Int($0) }
        switch kind {
        case LifecycleDataset.invocationKind:
            return try invocation(fields, at: at, environment: environment)
        case LifecycleDataset.shutdownKind:
            guard let reason = fields.label("lantern_shutdown_reason") else {
                throw FleetLineError(description: "shutdown event without labels.lantern_shutdown_reason")
            }
            environment.shutdownAt = at
            environment.shutdownReason = reason
            let shutdown = ShutdownRecord(
                environmentID: environmentID, receivedAt: at, reason: reason,
                deadlineAt: fields.number("lantern_deadline_in_ms").map { at + micros($0) },
                pendingInvocations: Int(fields.number("lantern_pending_invocations") ?? 0),
                proxiesCreated: Int(fields.number("lantern_proxies_created") ?? 0),
                flushOutcome: fields.label("lantern_flush_outcome"),
                flushDurationMs: fields.number("lantern_flush_duration_ms"),
                exitedAt: fields.number("lantern_exited_in_ms").map { at + micros($0) })
            return ImportedFacts(environment: environment, shutdown: shutdown)
        default:
            throw FleetLineError(description: "unknown labels.lantern_kind '\(kind)'")
        }
    }

    private static func invocation(
        _ fields: Fields, at: Int64, environment: EnvironmentFact
    ) throws(FleetLineError) -> ImportedFacts {
        guard let requestID = fields.string("faas.execution"), !requestID.isEmpty else {
            throw FleetLineError(description: "invocation event without faas.execution (the request id)")
        }
        var environment = environment
        environment.startedAt = at
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environment.id
        fact.functionARN = fields.string("faas.id")
        fact.invokedAt = at
        fact.coldStart = fields.bool("faas.coldstart")
        if let status = fields.label("lantern_status") {
            guard let value = InvocationStatus(rawValue: status) else {
                throw FleetLineError(description: "unknown labels.lantern_status '\(status)'")
            }
            fact.status = value
        }
        fact.errorType = fields.label("lantern_error_type")
        if let reason = fields.label("lantern_flush_reason") {
            guard let value = FlushReason(rawValue: reason) else {
                throw FleetLineError(description: "unknown labels.lantern_flush_reason '\(reason)'")
            }
            fact.flushReason = value
        }
        fact.runtimeDurationMs = fields.number("lantern_handler_ms")
        // Times come back from offsets: `@timestamp` is the start, the release is `total` after it, runtimeDone is
        // `post-runtime` before the release (Managed Instances release nothing: no `post_runtime`, no release).
        let post = fields.number("lantern_post_runtime_ms")
        let managedInstances = environment.initializationType == ExecutionMode.managedInstancesInitializationType
        if let total = fields.number("lantern_total_ms"), !managedInstances {
            fact.releasedAt = at + micros(total)
            if let post { fact.runtimeDoneAt = at + micros(total) - micros(post) }
        }
        fact.durationMs = fields.number("lantern_duration_ms")
        fact.billedDurationMs = fields.number("lantern_billed_duration_ms").map { Int($0) }
        fact.memorySizeMB = fields.number("lantern_memory_mb").map { Int($0) }
        environment.memoryMB = fact.memorySizeMB
        fact.maxMemoryUsedMB = fields.number("lantern_max_memory_used_mb").map { Int($0) }
        fact.initDurationMs = fields.number("lantern_init_duration_ms")
        fact.timeoutMs = fields.number("lantern_timeout_ms").map { Int($0) }
        // Classic events say 1; a local store leaves classic rows NULL (concurrency is a Managed Instances figure), and
        // so does the fleet store, so that `query stats` means the same on both.
        fact.inFlight = managedInstances ? fields.number("lantern_in_flight").map { Int($0) } : nil
        let transactionID = fields.string("transaction.id")
        fact.transactionID = transactionID
        var proxy: ProxyTransactionRecord?
        if let trigger = fields.label("lantern_proxy") {
            guard let value = ProxyTrigger(rawValue: trigger) else {
                throw FleetLineError(description: "unknown labels.lantern_proxy '\(trigger)'")
            }
            if let transactionID {
                let result = fact.status?.rawValue ?? environment.shutdownReason ?? "unknown"
                let end = fact.releasedAt ?? at + micros(fact.durationMs ?? 0)
                proxy = ProxyTransactionRecord(
                    requestID: requestID, environmentID: environment.id, transactionID: transactionID,
                    traceID: fields.string("trace.id"), result: result,
                    outcome: result == InvocationStatus.success.rawValue ? nil : "failure",
                    durationMs: fields.number("lantern_total_ms") ?? fact.durationMs, trigger: value, createdAt: end,
                    forwardedAt: end)
            }
        }
        return ImportedFacts(environment: environment, invocation: fact, proxy: proxy)
    }

    private static func micros(_ milliseconds: Double) -> Int64 { Int64((milliseconds * 1000).rounded()) }
}

/// Field lookup that reads nested (`{"faas":{"name":…}}`) and dotted (`{"faas.name":…}`) documents alike: the
/// document is flattened to dotted paths once, so each lookup is one hash (splitting every path on every lookup
/// was a third of an import's time).
private struct Fields {
    private var flat: [String: Any] = [:]

    init(_ document: [String: Any]) {
        flatten(document, prefix: "")
    }

    private mutating func flatten(_ object: [String: Any], prefix: String) {
        for (key, value) in object {
            if let nested = value as? [String: Any] {
                flatten(nested, prefix: prefix + key + ".")
            } else {
                flat[prefix + key] = value
            }
        }
    }

    func value(_ path: String) -> Any? { flat[path] }

    func string(_ path: String) -> String? { value(path) as? String }

    func bool(_ path: String) -> Bool? {
        if let text = value(path) as? String { return Bool(text) }
        return value(path) as? Bool
    }

    /// A string label (`labels.<name>`).
    func label(_ name: String) -> String? { string("labels.\(name)") }

    /// A numeric label: `numeric_labels.<name>` in Elasticsearch, `labels.<name>` on the intake line.
    func number(_ name: String) -> Double? {
        for path in ["numeric_labels.\(name)", "labels.\(name)"] {
            if let number = value(path) as? NSNumber { return number.doubleValue }
            if let text = value(path) as? String, let number = Double(text) { return number }
        }
        return nil
    }

    /// `@timestamp`: epoch microseconds on an intake line, ISO-8601 (any fraction) in Elasticsearch.
    func timestamp() -> Int64? {
        if let number = value("@timestamp") as? NSNumber { return number.int64Value }
        guard let text = value("@timestamp") as? String else { return nil }
        return ISOTimestamp.epochMicros(text)
    }
}

/// ISO-8601 with any number of fraction digits (Elasticsearch writes milliseconds or nanoseconds).
enum ISOTimestamp {
    static func epochMicros(_ text: String) -> Int64? {
        var whole = text
        var fractionMicros: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let rest = text[text.index(after: dot)...]
            let digits = rest.prefix(while: \.isNumber)
            guard !digits.isEmpty else { return nil }
            let padded = String(digits.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
            fractionMicros = Int64(padded) ?? 0
            whole = String(text[..<dot]) + String(rest.dropFirst(digits.count))
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: whole) else { return nil }
        return Int64(date.timeIntervalSince1970.rounded()) * 1_000_000 + fractionMicros
    }
}
