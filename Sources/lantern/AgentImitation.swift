// The sample function's stand-in for Elastic's APM agent. It speaks to the collector exactly as
// elastic-apm's `capture_serverless` does (lambda-apis.md §5): a server-info `GET /` once, a partial
// transaction on `/register/transaction` at the start of every invocation, and a gzip ndjson
// `/intake/v2/events?flushed=true` at its end. The events are valid intake v2 events.

import AsyncHTTPClient
import CompressNIO
import Foundation
import LanternStore
import NIOCore

/// One invocation as the runtime saw it on `/next`.
struct SampleInvocation: Sendable {
    var requestID: String
    var functionARN: String
    var deadlineMs: Int64
    /// The `Lambda-Runtime-Trace-Id` header, e.g. `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
    var traceHeader: String?
}

/// The ids and times of one APM transaction.
struct TransactionDraft: Sendable {
    var id: String
    var traceID: String
    var parentID: String?
    var startMicros: Int64
    var coldStart: Bool
    var invocation: SampleInvocation
}

/// How the handler ended, as the agent reports it.
enum HandlerEnding: Sendable {
    case success(spans: [SpanDraft])
    case failure(spans: [SpanDraft], errorType: String, message: String)
}

/// A span the handler recorded: a name, a type and its time window.
struct SpanDraft: Sendable {
    var name: String
    var type: String
    var subtype: String?
    var startMicros: Int64
    var durationMs: Double
}

/// Builds the agent's ndjson lines. Pure: no I/O, so the lines can be printed and validated.
struct AgentEvents: Sendable {
    var functionName: String
    var functionVersion: String
    var region: String
    var logStream: String?

    init(environment: [String: String]) {
        functionName = environment["AWS_LAMBDA_FUNCTION_NAME"] ?? "lantern-demo"
        functionVersion = environment["AWS_LAMBDA_FUNCTION_VERSION"] ?? "$LATEST"
        region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        logStream = environment["AWS_LAMBDA_LOG_STREAM_NAME"]
    }

    /// Starts a transaction, taking the trace id and parent from the Lambda trace header when there is one.
    func begin(_ invocation: SampleInvocation, coldStart: Bool, now: Int64) -> TransactionDraft {
        let trace = XRayTrace(header: invocation.traceHeader)
        return TransactionDraft(
            id: randomHex(bytes: 8), traceID: trace?.traceID ?? randomHex(bytes: 16), parentID: trace?.parentID,
            startMicros: now, coldStart: coldStart, invocation: invocation)
    }

    /// `{"metadata":...}`; the cloud account comes from the function ARN, as elastic-apm takes it.
    func metadataLine(functionARN: String) -> String {
        let arnParts = functionARN.split(separator: ":", omittingEmptySubsequences: false)
        let account = arnParts.count > 4 && !arnParts[4].isEmpty ? String(arnParts[4]) : nil
        let metadata = Metadata(
            service: .init(
                name: serviceName, version: functionVersion,
                agent: .init(name: "lantern-demo-agent", version: LanternVersion.current),
                language: .init(name: "swift"), runtime: .init(name: "lantern sample-function", version: LanternVersion.current),
                framework: .init(name: "AWS Lambda"), node: logStream.map { Metadata.Service.Node(configured_name: $0) }),
            cloud: .init(provider: "aws", region: region, service: .init(name: "lambda"), account: account.map { .init(id: $0) }))
        return line("metadata", metadata)
    }

    /// The partial transaction for `/register/transaction`: metadata, then the transaction as it starts.
    func registrationBody(_ draft: TransactionDraft) -> String {
        metadataLine(functionARN: draft.invocation.functionARN) + "\n" + line("transaction", transaction(draft, durationMs: 0, result: nil, outcome: nil, spans: 0)) + "\n"
    }

    /// The flush at the end of the handler: metadata, spans, an error on failure, then the transaction.
    func flushBody(_ draft: TransactionDraft, ending: HandlerEnding, endMicros: Int64) -> String {
        var lines = [metadataLine(functionARN: draft.invocation.functionARN)]
        let spans: [SpanDraft]
        switch ending {
        case .success(let s): spans = s
        case .failure(let s, _, _): spans = s
        }
        for span in spans {
            lines.append(line("span", Span(
                id: randomHex(bytes: 8), trace_id: draft.traceID, parent_id: draft.id, transaction_id: draft.id,
                name: span.name, type: span.type, subtype: span.subtype, timestamp: span.startMicros,
                duration: span.durationMs, outcome: "success")))
        }
        let durationMs = Double(max(endMicros - draft.startMicros, 0)) / 1000
        switch ending {
        case .success:
            lines.append(line("transaction", transaction(draft, durationMs: durationMs, result: "success", outcome: "success", spans: spans.count)))
        case .failure(_, let type, let message):
            lines.append(line("error", ErrorEvent(
                id: randomHex(bytes: 16), trace_id: draft.traceID, parent_id: draft.id, transaction_id: draft.id,
                timestamp: endMicros, culprit: "sample-function handler",
                exception: .init(message: message, type: type, handled: false),
                transaction: .init(sampled: true, type: "request", name: functionName))))
            lines.append(line("transaction", transaction(draft, durationMs: durationMs, result: "failure", outcome: "failure", spans: spans.count)))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func transaction(_ draft: TransactionDraft, durationMs: Double, result: String?, outcome: String?, spans: Int) -> Transaction {
        Transaction(
            id: draft.id, trace_id: draft.traceID, parent_id: draft.parentID, name: functionName, type: "request",
            timestamp: draft.startMicros, duration: durationMs, result: result, outcome: outcome, sampled: true,
            span_count: .init(started: spans, dropped: 0),
            faas: .init(
                coldstart: draft.coldStart, execution: draft.invocation.requestID, id: draft.invocation.functionARN,
                name: functionName, version: functionVersion, trigger: .init(type: "other")))
    }

    /// Service names allow `[a-zA-Z0-9 _-]` only.
    private var serviceName: String {
        let cleaned = String(functionName.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == " ") ? $0 : "_" })
        return cleaned.isEmpty ? "lantern-demo" : cleaned
    }

    private func line<T: Encodable>(_ key: String, _ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode([key: value])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The parts of an X-Ray trace header an APM transaction uses.
struct XRayTrace: Equatable {
    /// The root without its version and dashes: 32 hex digits, the W3C trace id.
    var traceID: String
    /// The 16 hex digit parent segment id, if any.
    var parentID: String?

    init?(header: String?) {
        guard let header else { return nil }
        var root: String?
        var parent: String?
        for field in header.split(separator: ";") {
            let pair = field.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "Root": root = pair[1]
            case "Parent": parent = pair[1]
            default: break
            }
        }
        // Root=1-<8 hex time>-<24 hex>: version 1, then the 32 hex digits of the trace id.
        guard let root, root.hasPrefix("1-") else { return nil }
        let hex = root.dropFirst(2).replacingOccurrences(of: "-", with: "").lowercased()
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        traceID = hex
        parentID = parent.flatMap { $0.count == 16 && $0.allSatisfy(\.isHexDigit) ? $0.lowercased() : nil }
    }
}

func randomHex(bytes: Int) -> String {
    (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
}

// MARK: - Intake v2 shapes (field names are the wire names)

private struct Metadata: Encodable {
    struct Service: Encodable {
        struct Agent: Encodable { var name: String; var version: String }
        struct Language: Encodable { var name: String }
        struct Runtime: Encodable { var name: String; var version: String }
        struct Framework: Encodable { var name: String }
        struct Node: Encodable { var configured_name: String }
        var name: String
        var version: String
        var agent: Agent
        var language: Language
        var runtime: Runtime
        var framework: Framework
        var node: Node?
    }
    struct Cloud: Encodable {
        struct Service: Encodable { var name: String }
        struct Account: Encodable { var id: String }
        var provider: String
        var region: String
        var service: Service
        var account: Account?
    }
    var service: Service
    var cloud: Cloud
}

private struct Transaction: Encodable {
    struct SpanCount: Encodable { var started: Int; var dropped: Int }
    struct Faas: Encodable {
        struct Trigger: Encodable { var type: String }
        var coldstart: Bool
        var execution: String
        var id: String
        var name: String
        var version: String
        var trigger: Trigger
    }
    var id: String
    var trace_id: String
    var parent_id: String?
    var name: String
    var type: String
    var timestamp: Int64
    var duration: Double
    var result: String?
    var outcome: String?
    var sampled: Bool
    var span_count: SpanCount
    var faas: Faas
}

private struct Span: Encodable {
    var id: String
    var trace_id: String
    var parent_id: String
    var transaction_id: String
    var name: String
    var type: String
    var subtype: String?
    var timestamp: Int64
    var duration: Double
    var outcome: String
}

private struct ErrorEvent: Encodable {
    struct Exception: Encodable { var message: String; var type: String; var handled: Bool }
    struct TransactionRef: Encodable { var sampled: Bool; var type: String; var name: String }
    var id: String
    var trace_id: String
    var parent_id: String
    var transaction_id: String
    var timestamp: Int64
    var culprit: String
    var exception: Exception
    var transaction: TransactionRef
}

/// Sends the agent's requests to the collector's receiver. Like elastic-apm, a failed registration
/// turns registration off for the rest of the process, and failures never fail the handler.
actor AgentTransport {
    private let client: HTTPClient
    private let baseURL: String
    private var registrationEnabled = true
    private var probed = false

    init(client: HTTPClient, port: Int) {
        self.client = client
        self.baseURL = "http://127.0.0.1:\(port)"
    }

    /// `GET /` once per process, the agent's server-information probe (the collector proxies it).
    func probeServerOnce() async {
        guard !probed else { return }
        probed = true
        var request = HTTPClientRequest(url: baseURL + "/")
        request.method = .GET
        _ = try? await send(request, timeout: .seconds(1))
    }

    /// `POST /register/transaction` with the request-id header.
    func register(requestID: String, body: String) async {
        guard registrationEnabled else { return }
        var request = HTTPClientRequest(url: baseURL + "/register/transaction")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/vnd.elastic.apm.transaction+ndjson")
        request.headers.add(name: "x-elastic-aws-request-id", value: requestID)
        request.body = .bytes(ByteBuffer(string: body))
        let status = try? await send(request, timeout: .seconds(1))
        if status == nil || status! >= 400 { registrationEnabled = false }
    }

    /// `POST /intake/v2/events?flushed=true`, gzip ndjson. Blocks until the receiver answers, as the agent does.
    func flush(body: String) async {
        var plain = ByteBuffer(string: body)
        guard let compressed = try? plain.compress(with: .gzip()) else { return }
        var request = HTTPClientRequest(url: baseURL + "/intake/v2/events?flushed=true")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-ndjson")
        request.headers.add(name: "content-encoding", value: "gzip")
        request.body = .bytes(compressed)
        _ = try? await send(request, timeout: .seconds(3))
    }

    /// Short timeouts: the receiver is on loopback and must answer fast; async-http-client keeps retrying
    /// a refused connection until the deadline, so the deadline is what bounds a missing receiver.
    private func send(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> UInt {
        let response = try await client.execute(request, timeout: timeout)
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }
}
