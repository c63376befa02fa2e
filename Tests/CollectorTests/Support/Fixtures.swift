// Shared pieces of the collector tests: an observer that remembers what it was told, sample agent
// lines, and helpers to build Forwarders and Receivers over loopback.

import AsyncHTTPClient
import Collector
import CompressNIO
import Foundation
import TestSupport
import LanternStore
import Logging
import NIOCore
import NIOHTTP1

/// Remembers every batch and registration the receiver reported.
actor RecordingObserver: AgentObserver {
    private(set) var batches: [AgentBatch] = []
    private(set) var registrations: [TransactionRegistration] = []

    func agentSent(_ batch: AgentBatch) async { batches.append(batch) }
    func agentRegistered(_ registration: TransactionRegistration) async { registrations.append(registration) }
}

enum Sample {
    static let metadata = #"{"metadata":{"service":{"name":"fn-under-test","agent":{"name":"python","version":"6.26.2"},"framework":{"name":"AWS Lambda"}},"cloud":{"provider":"aws"}}}"#

    static func transaction(id: String, requestID: String? = nil) -> String {
        let faas = requestID.map { #","faas":{"execution":"\#($0)"}"# } ?? ""
        return #"{"transaction":{"id":"\#(id)","trace_id":"0af7651916cd43dd8448eb211c80319c","type":"request","name":"handler","duration":12.5,"span_count":{"started":1}\#(faas)}}"#
    }

    static func span(id: String) -> String {
        #"{"span":{"id":"\#(id)","trace_id":"0af7651916cd43dd8448eb211c80319c","parent_id":"b7ad6b7169203331","transaction_id":"b7ad6b7169203331","name":"SELECT","type":"db","start":1.5,"duration":3.0}}"#
    }

    static func body(_ lines: [String]) -> ByteBuffer { ByteBuffer(string: lines.joined(separator: "\n") + "\n") }

    static func gzip(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var input = buffer
        return try input.compress(with: .gzip())
    }

    static func zlib(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var input = buffer
        return try input.compress(with: .zlib())
    }

    static func agentBatch(_ lines: [String], flushed: Bool = false) -> AgentBatch {
        IntakeDecoder.decodeIntake(body(lines), flushed: flushed, receivedAt: epochMicros()).batch
    }
}

/// A backoff short enough for tests: first wait exactly `first` seconds, then `step`·n² seconds.
func quickBackoff(first: Double = 0.2, step: Double = 0.2) -> BackoffPolicy {
    BackoffPolicy(first: first...first, stepSeconds: step, maxStep: 3, jitter: 0)
}

func makeForwarder(
    serverURL: String?, apiKey: String? = nil, secretToken: String? = nil, backoff: BackoffPolicy = quickBackoff(),
    sendTimeout: TimeAmount = .seconds(2), retryBufferEvents: Int = 5_000, maxBatchEvents: Int = 50,
    maxBatchAge: TimeAmount = .seconds(60), recorder: Recorder? = nil
) -> Forwarder {
    var logger = Logger(label: "test.forwarder")
    logger.logLevel = .error
    return Forwarder(
        configuration: ForwarderConfiguration(
            serverURL: serverURL, apiKey: apiKey, secretToken: secretToken, sendTimeout: sendTimeout,
            maxBatchEvents: maxBatchEvents, maxBatchAge: maxBatchAge, retryBufferEvents: retryBufferEvents,
            backoff: backoff, functionName: "fn-under-test", functionVersion: "$LATEST", memoryMB: 128,
            region: "eu-west-1", runtime: "python3.12", logStream: "2026/11/25/[$LATEST]abc", collectorVersion: "0.1.0"),
        recorder: recorder, environmentID: "env-test", logger: logger)
}

/// A port nobody listens on (bound, then released).
func closedPort() throws -> Int {
    let socket = try ServerSocketProbe.bindEphemeral()
    return socket
}

enum ServerSocketProbe {
    static func bindEphemeral() throws -> Int { try freeLoopbackPort() }
}

/// Sends one request to the receiver and returns status, headers and body.
func send(
    _ method: HTTPMethod = .POST, port: Int, path: String, headers: [(String, String)] = [], body: ByteBuffer? = nil
) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(body) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
    let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
    return (Int(response.status.code), response.headers, String(buffer: bytes))
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
