// The two lifecycle lines the collector forwards for the fleet view: one `log` event per invocation and one per
// SHUTDOWN, with `event.dataset: lantern.lifecycle`, `faas` fields and `labels` (strings become `labels.*`,
// numbers `numeric_labels.*` in Elasticsearch). A `log` event because the APM Server stores it as it came, in
// `logs-apm.app.<service>-*`, with its labels, faas fields and message queryable (docs/forwarding.md says why
// not a metricset or a transaction). The collector writes them directly (LifecycleEventLines+Writer.swift); the
// Codable `encode(to:)` below is what the tests hold those bytes to.

/// The dataset every lifecycle event carries (the filter in Kibana and ES|QL, and what `lantern import` keeps).
public enum LifecycleDataset {
    public static let name = "lantern.lifecycle"
    /// `labels.lantern_kind` of an invocation's event and of a SHUTDOWN's.
    public static let invocationKind = "invocation"
    public static let shutdownKind = "shutdown"
}

/// The environment-wide fields of every lifecycle event.
struct LifecycleEnvironment {
    var environmentID: String
    var functionName: String?
    var functionVersion: String?
    var initializationType: String?
    var maxConcurrency: Int?
}

/// The `labels` object: `lantern_*` keys, strings and numbers (nil values left out).
struct LifecycleLabels {
    var strings: [(String, String?)] = []
    var numbers: [(String, Double?)] = []

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode<Parent: CodingKey>(into parent: inout KeyedEncodingContainer<Parent>, forKey key: Parent) throws {
        var c = parent.nestedContainer(keyedBy: Key.self, forKey: key)
        for (name, value) in strings { try c.encodeIfPresent(value, forKey: Key(stringValue: name)) }
        for (name, value) in numbers {
            guard let value else { continue }
            // Whole numbers as integers (counts, MB): shorter, and what a reader expects.
            if value.rounded() == value, abs(value) < 1e15 {
                try c.encode(Int64(value), forKey: Key(stringValue: name))
            } else {
                try c.encode(JSONLine.finite((value * 1000).rounded() / 1000), forKey: Key(stringValue: name))
            }
        }
    }
}

/// `{"log": {...}}` for one lifecycle event.
struct LifecycleEventLine: Encodable {
    var timestamp: Int64
    var message: String
    var level: String
    var faas: FaaSFields
    var labels: LifecycleLabels
    var transactionID: String?
    var traceID: String?

    private enum Top: String, CodingKey { case log }
    private enum Body: String, CodingKey {
        case timestamp = "@timestamp"
        case message, faas, labels
        case dataset = "event.dataset"
        case level = "log.level"
        case traceID = "trace.id"
        case transactionID = "transaction.id"
    }

    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Top.self)
        var body = top.nestedContainer(keyedBy: Body.self, forKey: .log)
        try body.encode(timestamp, forKey: .timestamp)
        try body.encode(message, forKey: .message)
        try body.encode(LifecycleDataset.name, forKey: .dataset)
        try body.encode(level, forKey: .level)
        try faas.encode(into: &body, forKey: .faas)
        try labels.encode(into: &body, forKey: .labels)
        try body.encodeIfPresent(traceID, forKey: .traceID)
        try body.encodeIfPresent(transactionID, forKey: .transactionID)
    }
}
