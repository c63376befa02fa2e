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

    /// A present label's place in the order: its first sixteen UTF-8 bytes, big-endian, zero-padded, and its
    /// index. Two integer compares order most pairs (all names start `lantern_`, then differ within the next
    /// eight bytes), and the sort moves only these plain values: comparing the strings' bytes each time cost a
    /// fifth of the line, moving the labels themselves a retain and release per move.
    private struct SortKey {
        var head: UInt64
        var tail: UInt64
        var index: Int

        init(_ name: String, index: Int) {
            self.index = index
            var text = name
            (head, tail) = text.withUTF8 { bytes in
                var head: UInt64 = 0, tail: UInt64 = 0
                for i in 0..<16 {
                    let byte = i < bytes.count ? UInt64(bytes[i]) : 0
                    if i < 8 { head = head << 8 | byte } else { tail = tail << 8 | byte }
                }
                return (head, tail)
            }
        }
    }

    /// Negative, zero or positive as `a` orders before, with or after `b` by UTF-8 bytes (as
    /// `lexicographicallyPrecedes` over `utf8`). Zero padding cannot misorder: a name that ends first is a prefix
    /// up to there, and precedes; equal heads and tails are settled on the whole bytes.
    private static func order(_ a: SortKey, _ b: SortKey, _ names: [String]) -> Int {
        if a.head != b.head { return a.head < b.head ? -1 : 1 }
        if a.tail != b.tail { return a.tail < b.tail ? -1 : 1 }
        var x = names[a.index], y = names[b.index]
        return x.withUTF8 { x in
            y.withUTF8 { y in
                for i in 0..<min(x.count, y.count) where x[i] != y[i] { return x[i] < y[i] ? -1 : 1 }
                return x.count - y.count
            }
        }
    }

    /// `{...}` with the present labels. The names are not in order in the builders, so they are sorted here as
    /// the encoder sorts its keys (UTF-8 bytes); of two labels with the same name the later one is written, as
    /// the encoder's table keeps the later value. (Names are ASCII constants, so "same" is byte equality.)
    func write(into writer: inout JSONWriter) {
        var names: [String] = []
        var values: [Value] = []
        names.reserveCapacity(strings.count + numbers.count)
        values.reserveCapacity(strings.count + numbers.count)
        for (name, value) in strings { if let value { names.append(name); values.append(.string(value)) } }
        for (name, value) in numbers { if let value { names.append(name); values.append(.number(value)) } }
        var keys: [SortKey] = []
        keys.reserveCapacity(names.count)
        for index in names.indices { keys.append(SortKey(names[index], index: index)) }
        // Insertion sort: stable (equal names keep their order, so the last is the later one) and cheap for the
        // fifteen-odd labels of a line.
        if keys.count > 1 {
            for next in 1..<keys.count {
                let key = keys[next]
                var slot = next
                while slot > 0, Self.order(key, keys[slot - 1], names) < 0 {
                    keys[slot] = keys[slot - 1]
                    slot -= 1
                }
                keys[slot] = key
            }
        }
        var fields = JSONObjectWriter(&writer)
        for position in keys.indices {
            if position + 1 < keys.count, Self.order(keys[position + 1], keys[position], names) == 0 { continue }
            let index = keys[position].index
            fields.key(names[index], &writer)
            switch values[index] {
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
