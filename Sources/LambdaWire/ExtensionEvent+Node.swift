// The `next` event read straight from the parsed tree, as `init(from:)` reads it: the collector reads one per
// invocation, and Codable's containers cost more than the JSON. `JSONOracle.compareAll` holds it to
// FoundationEssentials' JSONDecoder over the fuzz corpus and the seeded documents (same value or both refuse).

extension ExtensionEvent {
    /// A `GET /extension/event/next` body: what `WireJSON.decode(ExtensionEvent.self, from: bytes)` gives.
    public static func decode(from bytes: some Collection<UInt8>) throws(JSONError) -> ExtensionEvent {
        try ExtensionEvent(node: JSONScanner.parse(bytes))
    }

    public init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        let type = try f.string("eventType")
        guard let eventType = ExtensionEventType(rawValue: type) else {
            throw JSONError(.shape, "unknown eventType \(type.debugDescription)")
        }
        self.eventType = eventType
        deadlineMs = try f.flexibleInt64("deadlineMs")
        requestId = try f.optionalString("requestId")
        invokedFunctionArn = try f.optionalString("invokedFunctionArn")
        if let node = f.present("tracing") {
            let t = try JSONFields(node)
            tracing = InvokeTracing(type: try t.string("type"), value: try t.string("value"))
        } else {
            tracing = nil
        }
        shutdownReason = try f.optionalString("shutdownReason").map(ShutdownReason.init(rawValue:))
    }
}
