import Foundation
import LambdaWire

/// Reading what the recording extension wrote.
enum Records {
    /// Every telemetry event delivered to any recorder, decoded with LambdaWire (so every field is type-checked).
    static func telemetry(_ records: [[String: Any]]) throws -> [TelemetryEvent] {
        var events: [TelemetryEvent] = []
        for record in records where record["kind"] as? String == "telemetry" {
            let data = try JSONSerialization.data(withJSONObject: record["events"] ?? [])
            events += try JSONDecoder().decode([TelemetryEvent].self, from: data)
        }
        return events
    }

    /// The extension events (INVOKE/SHUTDOWN) recorded, decoded.
    static func extensionEvents(_ records: [[String: Any]]) throws -> [(event: ExtensionEvent, at: Double)] {
        try records.filter { $0["kind"] as? String == "event" }.map {
            let data = try JSONSerialization.data(withJSONObject: $0["event"] ?? [:])
            return (try JSONDecoder().decode(ExtensionEvent.self, from: data), $0["at"] as? Double ?? 0)
        }
    }

    static func kind(_ records: [[String: Any]], _ kind: String) -> [[String: Any]] {
        records.filter { $0["kind"] as? String == kind }
    }

    static func reports(_ events: [TelemetryEvent]) -> [PlatformReport] {
        events.compactMap { if case .report(let r) = $0.record { r } else { nil } }
    }

    static func runtimeDones(_ events: [TelemetryEvent]) -> [PlatformRuntimeDone] {
        events.compactMap { if case .runtimeDone(let r) = $0.record { r } else { nil } }
    }

    static func initStarts(_ events: [TelemetryEvent]) -> [PlatformInitStart] {
        events.compactMap { if case .initStart(let r) = $0.record { r } else { nil } }
    }

    static func shutdownReasons(_ records: [[String: Any]]) throws -> [String] {
        try extensionEvents(records).compactMap { $0.event.shutdownReason?.rawValue }
    }
}
