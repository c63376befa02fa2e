// The lifecycle lines written straight into a `JSONWriter`, byte for byte what `JSONNodeEncoder` writes for the
// same `LifecycleEventLine` through its Codable `encode(to:)` (kept as the tests' oracle): keys sorted by their
// UTF-8 bytes, the same number forms, the same escaping (`JSONWriter.string`). Through the encoder each line
// cost a tree of boxed values, a dictionary per object and the generic container machinery, once per
// invocation.

import LambdaWire

extension LifecycleEventLine {
    /// The line, keys sorted: @timestamp, event.dataset, faas, labels, log.level, message, trace.id,
    /// transaction.id.
    func write(into writer: inout JSONWriter) {
        writer.raw(#"{"log":{"@timestamp":"#.utf8)
        writer.integer(timestamp)
        writer.raw(#","event.dataset":"#.utf8)
        writer.string(LifecycleDataset.name)
        writer.raw(#","faas":"#.utf8)
        faas.write(into: &writer)
        writer.raw(#","labels":"#.utf8)
        labels.write(into: &writer)
        writer.raw(#","log.level":"#.utf8)
        writer.string(level)
        writer.raw(#","message":"#.utf8)
        writer.string(message)
        if let traceID { writer.raw(#","trace.id":"#.utf8); writer.string(traceID) }
        if let transactionID { writer.raw(#","transaction.id":"#.utf8); writer.string(transactionID) }
        writer.raw("}}".utf8)
    }
}

extension LifecycleLabels {
    private enum Value {
        case string(String)
        case number(Double)
    }

    /// `{...}` with the present labels. The names are not in order in the builders, so they are sorted here as
    /// the encoder sorts its keys (UTF-8 bytes); of two labels with the same name the later one is written, as
    /// the encoder's table keeps the later value. (Names are ASCII constants, so "same" is byte equality.)
    func write(into writer: inout JSONWriter) {
        var present: [(name: String, value: Value)] = []
        present.reserveCapacity(strings.count + numbers.count)
        for (name, value) in strings { if let value { present.append((name, .string(value))) } }
        for (name, value) in numbers { if let value { present.append((name, .number(value))) } }
        // Insertion sort: stable (equal names keep their order, so the last is the later one) and cheap for the
        // fifteen-odd labels of a line.
        if present.count > 1 {
            for next in 1..<present.count {
                let entry = present[next]
                var slot = next
                while slot > 0, entry.name.utf8.lexicographicallyPrecedes(present[slot - 1].name.utf8) {
                    present[slot] = present[slot - 1]
                    slot -= 1
                }
                present[slot] = entry
            }
        }
        var fields = JSONObjectWriter(&writer)
        for index in present.indices {
            if index + 1 < present.count, present[index + 1].name.utf8.elementsEqual(present[index].name.utf8) { continue }
            fields.key(present[index].name, &writer)
            switch present[index].value {
            case .string(let text): writer.string(text)
            case .number(let value): Self.writeNumber(value, into: &writer)
            }
        }
        fields.close(&writer)
    }

    /// Whole numbers as integers (counts, MB), the rest rounded to three decimals, as `encode(into:forKey:)`.
    private static func writeNumber(_ value: Double, into writer: inout JSONWriter) {
        if value.rounded() == value, abs(value) < 1e15 {
            writer.integer(Int64(value))
        } else {
            // `finite` leaves nothing the writer refuses.
            try? writer.double(JSONLine.finite((value * 1000).rounded() / 1000))
        }
    }
}
