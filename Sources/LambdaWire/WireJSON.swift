/// Encoding and decoding helpers with the settings the wire needs. Foundation-free (`JSONNodeEncoder`,
/// `JSONNodeDecoder`), so the extension binary links no FoundationEssentials; compact output, sorted keys.
public enum WireJSON {
    /// Encodes a value as compact JSON bytes.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONNodeEncoder().encode(value)
    }

    /// Decodes a value from JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONNodeDecoder().decode(type, from: bytes)
    }
}
