// JSON texts may come as UTF-16 or UTF-32 (RFC 4627 section 3); Foundation's JSONDecoder tells them apart
// by a byte order mark or by where the first bytes are zero, and transcodes them to UTF-8. No Lambda API
// sends anything but UTF-8; this keeps the reader's answers the same as Foundation's on every input.

enum JSONInputEncoding {
    /// The document as UTF-8, a leading byte order mark removed.
    static func utf8(_ bytes: [UInt8]) throws(JSONError) -> [UInt8] {
        let b = (0..<4).map { $0 < bytes.count ? Int(bytes[$0]) : -1 }  // -1: past the end
        switch (b[0], b[1], b[2], b[3]) {
        case (0, 0, 0xFE, 0xFF): return try transcode(bytes.dropFirst(4), width: 4, bigEndian: true)
        case (0xFE, 0xFF, 0, 0): return try transcode(bytes.dropFirst(4), width: 4, bigEndian: false)
        case (0xFE, 0xFF, _, _): return try transcode(bytes.dropFirst(2), width: 2, bigEndian: true)
        case (0xFF, 0xFE, _, _): return try transcode(bytes.dropFirst(2), width: 2, bigEndian: false)
        case (0xEF, 0xBB, 0xBF, _): return Array(bytes.dropFirst(3))
        case (0, 0, 0, let x) where x > 0: return try transcode(bytes[...], width: 4, bigEndian: true)
        case (0, let x, 0, let y) where x > 0 && y > 0: return try transcode(bytes[...], width: 2, bigEndian: true)
        case (let x, 0, 0, 0) where x > 0: return try transcode(bytes[...], width: 4, bigEndian: false)
        case (let x, 0, let y, 0) where x > 0 && y > 0: return try transcode(bytes[...], width: 2, bigEndian: false)
        case (0, let x, -1, -1) where x > 0: return try transcode(bytes[...], width: 2, bigEndian: true)
        case (let x, 0, -1, -1) where x > 0: return try transcode(bytes[...], width: 2, bigEndian: false)
        default: return bytes
        }
    }

    private static func transcode(_ bytes: ArraySlice<UInt8>, width: Int, bigEndian: Bool) throws(JSONError) -> [UInt8] {
        let failure = JSONError(.invalidEncoding, "input is not valid UTF-\(width * 8)")
        guard bytes.count % width == 0 else { throw failure }
        var units: [UInt32] = []
        units.reserveCapacity(bytes.count / width)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            var unit: UInt32 = 0
            for k in 0..<width {
                let byte = UInt32(bytes[index + (bigEndian ? k : width - 1 - k)])
                unit = unit << 8 | byte
            }
            units.append(unit)
            index += width
        }
        let text: String?
        if width == 2 {
            text = String(validating: units.map { UInt16($0) }, as: UTF16.self)
        } else {
            text = String(validating: units, as: UTF32.self)
        }
        guard let text else { throw failure }
        return Array(text.utf8)
    }
}
