// The keys of one JSON object as a keyed decoding container sees them. Foundation resolves every key to a
// String when the container opens (so a bad key anywhere fails it) and keeps the first of equal keys. Most
// keys are plain printable ASCII, which is valid and canonically equal only to itself: those are compared as
// bytes and never become Strings; any other key is resolved when the table is made.

struct JSONObjectKeys {
    let members: [JSONMember]
    /// The resolved key of each member that is not plain ASCII (nil for plain ones); nil as a whole when every key
    /// is plain, as nearly all are: no table to allocate.
    private let resolved: [String?]?
    /// For large objects, the first member index of each key (built on first use, as Strings).
    private var index: [String: Int]?

    /// Up to this many members a lookup compares raw bytes one by one; past it a table of Strings pays off.
    /// (The agent's transaction objects have ~15 members and are read a few fields each: hashing every key of
    /// each one cost more than the scans it saved.)
    static let linearLimit = 48

    init(_ members: [JSONMember]) throws(JSONError) {
        self.members = members
        var resolved: [String?]?
        for position in members.indices where !members[position].key.isPlainASCII {
            if resolved == nil { resolved = Array(repeating: nil, count: members.count) }
            resolved![position] = try members[position].key.string()
        }
        self.resolved = resolved
        if members.count > Self.linearLimit {
            var index: [String: Int] = [:]
            index.reserveCapacity(members.count)
            for position in members.indices {
                let key = resolved?[position] ?? String(decoding: members[position].key.bytes, as: UTF8.self)
                if index[key] == nil { index[key] = position }
            }
            self.index = index
        }
    }

    /// The value of the first member whose key equals `key` (as Swift compares strings).
    func value(for key: String) -> JSONNode? {
        if let index { return index[key].map { members[$0].value } }
        var probe = key
        return probe.withUTF8 { probeBytes -> JSONNode? in
            var probeIsASCII = true
            for byte in probeBytes where byte >= 0x80 {
                probeIsASCII = false
                break
            }
            // Through a buffer pointer, and lengths before bytes: most members are passed over on their key's
            // length alone, without bounds checks or retaining the input each key is a slice of.
            return members.withUnsafeBufferPointer { members -> JSONNode? in
                for position in members.indices {
                    if let resolvedKey = resolved?[position] {
                        if resolvedKey == key { return members[position].value }
                    } else if probeIsASCII {
                        if members[position].key.bytes.count == probeBytes.count,
                           Self.equal(members[position].key.bytes, probeBytes) { return members[position].value }
                    } else if String(decoding: members[position].key.bytes, as: UTF8.self) == key {
                        return members[position].value
                    }
                }
                return nil
            }
        }
    }

    private static func equal(_ raw: ArraySlice<UInt8>, _ probe: UnsafeBufferPointer<UInt8>) -> Bool {
        guard raw.count == probe.count else { return false }
        return raw.withUnsafeBufferPointer { rawBytes in
            for offset in 0..<rawBytes.count where rawBytes[offset] != probe[offset] { return false }
            return true
        }
    }

    /// Every distinct key, in order of first appearance.
    var keys: [String] {
        var seen = Set<String>()
        var keys: [String] = []
        for position in members.indices {
            let key = resolved?[position] ?? String(decoding: members[position].key.bytes, as: UTF8.self)
            if seen.insert(key).inserted { keys.append(key) }
        }
        return keys
    }
}

extension JSONText {
    /// Printable ASCII without a backslash: the bytes are the string.
    var isPlainASCII: Bool {
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer where byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\\") { return false }
            return true
        }
    }
}
