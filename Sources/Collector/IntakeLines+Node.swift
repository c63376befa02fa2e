// The two small reads the collector makes of agent and log lines on every invocation, straight from the parsed
// tree (`JSONFields`) instead of through `JSONNodeDecoder`: Codable's containers and generic metadata cost more
// than the JSON. They answer as the Codable reads do, value for value and refusal for refusal
// (`CollectorJSONDifferentialTests` holds both to FoundationEssentials' JSONDecoder).

import LambdaWire
import NIOCore

extension IntakeDecoder.TransactionLine {
    /// `JSONLine.decode(TransactionLine.self, from: line)` without Codable.
    init(line: ByteBuffer) throws(JSONError) {
        try self.init(bytes: line.readableBytesView)
    }

    init(bytes: some Collection<UInt8>) throws(JSONError) {
        let fields = try JSONFields(JSONScanner.parse(bytes))
        let body = try JSONFields(fields.required("transaction"))
        var faas: Body.FaaS?
        if let node = body.present("faas") { faas = Body.FaaS(execution: try JSONFields(node).optionalString("execution")) }
        transaction = Body(id: try body.optionalString("id"), trace_id: try body.optionalString("trace_id"), faas: faas)
    }
}

extension LogLevel.LevelFields {
    /// `JSONNodeDecoder().decode(LevelFields.self, from: bytes)` without Codable.
    init(bytes: some Collection<UInt8>) throws(JSONError) {
        let fields = try JSONFields(JSONScanner.parse(bytes))
        level = try fields.optionalString("level")
        levelname = try fields.optionalString("levelname")
        severity = try fields.optionalString("severity")
        logLevel = try fields.optionalString("log.level")
    }
}
