// `lantern sample-function`: the demo's Lambda function. A custom runtime on the Runtime API
// (2018-06-01) whose handler does what the event asks (`{"kind":"slow","sleepMs":900}`) and reports
// to the collector through `AgentImitation`, the way an Elastic APM agent would.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// Hidden: the function `lantern demo` runs inside `lantern emulate`.
struct SampleFunction: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-function",
        abstract: "The demo's Lambda function: a Runtime API client with a built-in APM-agent imitation.",
        discussion: """
            Runs as the runtime (bootstrap) of `lantern emulate`; with AWS_LAMBDA_MAX_CONCURRENCY=N (Lambda \
            Managed Instances) it runs N workers, each with its own `next` loop. Each event's payload picks a behaviour:
            {"kind":"success"|"slow"|"error"|"timeout"|"crash","sleepMs":N}. Without a kind it draws one
            from LANTERN_DEMO_MIX (default: always success). The agent imitation sends to
            127.0.0.1:$ELASTIC_APM_DATA_RECEIVER_SERVER_PORT (default 8200); LANTERN_DEMO_AGENT=off turns it off.
            """,
        shouldDisplay: false
    )

    @Option(name: .customLong("print-events"), help: "Print the agent's ndjson for one invocation of KIND and exit.")
    var printEvents: DemoKind?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        if let kind = printEvents {
            print(Self.sampleEvents(kind: kind, environment: environment), terminator: "")
            return
        }
        guard let api = environment["AWS_LAMBDA_RUNTIME_API"], !api.isEmpty else {
            throw DemoError(.missingEnvironment, "AWS_LAMBDA_RUNTIME_API is not set: run this under `lantern emulate` or Lambda")
        }
        let portText = environment["ELASTIC_APM_DATA_RECEIVER_SERVER_PORT"] ?? "8200"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw DemoError(.missingEnvironment, "ELASTIC_APM_DATA_RECEIVER_SERVER_PORT='\(portText)' is not a port number")
        }
        let mix = try environment["LANTERN_DEMO_MIX"].map { try DemoMix(parsing: $0) } ?? DemoMix(weights: [.success: 1])
        let runtime = RuntimeAPIClient(client: HTTPClient.shared, api: api)
        let handler = SampleHandler(
            events: AgentEvents(environment: environment),
            transport: environment["LANTERN_DEMO_AGENT"] == "off" ? nil : AgentTransport(client: HTTPClient.shared, port: port),
            mix: mix)
        // Lambda Managed Instances: as many workers as AWS_LAMBDA_MAX_CONCURRENCY says, each its own `next` loop
        // (what swift-aws-lambda-runtime's LambdaManagedRuntime does); one on classic Lambda.
        let workers = environment["AWS_LAMBDA_MAX_CONCURRENCY"].flatMap(Int.init).map { max($0, 1) } ?? 1
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { try await handler.serve(runtime) }
            }
            // A worker that fails (the Runtime API went away) ends the function, as the single loop did.
            try await group.next()
            group.cancelAll()
        }
    }

    /// What the agent imitation sends for one invocation of `kind`: the registration body, then the flush body.
    static func sampleEvents(kind: DemoKind, environment: [String: String]) -> String {
        let events = AgentEvents(environment: environment)
        let invocation = SampleInvocation(
            requestID: UUID().uuidString.lowercased(),
            functionARN: "arn:aws:lambda:us-east-1:123456789012:function:\(events.functionName)",
            deadlineMs: Int64(Date().timeIntervalSince1970 * 1000) + 3_000,
            traceHeader: "Root=1-\(randomHex(bytes: 4))-\(randomHex(bytes: 12));Parent=\(randomHex(bytes: 8));Sampled=1")
        let now = epochMicrosecondsNow()
        let draft = events.begin(invocation, coldStart: true, now: now)
        let span = SpanDraft(name: "work", type: "app", subtype: "internal", startMicros: now + 100, durationMs: 12.5)
        let ending: HandlerEnding = kind == .error
            ? .failure(spans: [span], errorType: "DemoError", message: "the demo asked for an error")
            : .success(spans: [span])
        return events.registrationBody(draft) + events.flushBody(draft, ending: ending, endMicros: now + 15_000)
    }
}

func epochMicrosecondsNow() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

/// One unbuffered line on stdout: the emulator turns it into a `function` log record right away, and
/// nothing is lost when the sandbox kills the process.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The handler's view of one event payload.
private struct SampleEvent: Decodable {
    var kind: String?
    var sleepMs: Int?
}

/// The function's handler loop: `next`, run the behaviour, report, answer.
private struct SampleHandler {
    var events: AgentEvents
    /// nil: no agent (the demo's baseline run without the collector).
    var transport: AgentTransport?
    var mix: DemoMix

    func serve(_ runtime: RuntimeAPIClient) async throws {
        var coldStart = true
        var generator = SystemRandomNumberGenerator()
        while true {
            let (invocation, payload) = try await runtime.next()
            let event = try? JSONDecoder().decode(SampleEvent.self, from: Data(payload.readableBytesView))
            let kindName = event?.kind ?? mix.draw(using: &generator).rawValue
            let sleepMs = max(event?.sleepMs ?? 0, 0)
            say("sample-function: \(kindName) request \(invocation.requestID) sleepMs=\(sleepMs) coldStart=\(coldStart)")

            await transport?.probeServerOnce()
            let draft = events.begin(invocation, coldStart: coldStart, now: epochMicrosecondsNow())
            coldStart = false
            await transport?.register(requestID: invocation.requestID, body: events.registrationBody(draft))

            guard let kind = DemoKind(rawValue: kindName) else {
                let message = "unknown kind '\(kindName)': expected one of \(DemoKind.allCases.map(\.rawValue).joined(separator: ", "))"
                await finish(draft, .failure(spans: [], errorType: "DemoBadEvent", message: message))
                try await runtime.error(requestID: invocation.requestID, type: "Function.DemoBadEvent", message: message)
                continue
            }
            let spanStart = epochMicrosecondsNow()
            switch kind {
            case .success, .slow:
                try await Task.sleep(for: .milliseconds(sleepMs))
                var spans = [SpanDraft(name: "work", type: "app", subtype: "internal", startMicros: spanStart, durationMs: Double(sleepMs))]
                if kind == .slow {
                    spans.append(SpanDraft(name: "DynamoDB GetItem", type: "db", subtype: "dynamodb", startMicros: spanStart + 500, durationMs: Double(sleepMs) * 0.8))
                }
                await finish(draft, .success(spans: spans))
                try await runtime.respond(requestID: invocation.requestID, body: #"{"ok":true,"kind":"\#(kind.rawValue)","sleepMs":\#(sleepMs)}"#)
            case .error:
                try await Task.sleep(for: .milliseconds(sleepMs))
                let span = SpanDraft(name: "work", type: "app", subtype: "internal", startMicros: spanStart, durationMs: Double(sleepMs))
                let message = "the demo asked for an error"
                await finish(draft, .failure(spans: [span], errorType: "DemoError", message: message))
                try await runtime.error(requestID: invocation.requestID, type: "Function.DemoError", message: message)
            case .timeout:
                // Past the deadline and then some: the sandbox resets us; the agent never gets to flush.
                let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
                say("sample-function: sleeping past the deadline")
                try await Task.sleep(for: .milliseconds(max(invocation.deadlineMs - nowMs, 0) + 60_000))
                try await runtime.respond(requestID: invocation.requestID, body: #"{"ok":true,"kind":"timeout","late":true}"#)
            case .crash:
                try await Task.sleep(for: .milliseconds(sleepMs))
                FileHandle.standardError.write(Data("sample-function: crashing on purpose (exit 1) before responding\n".utf8))
                exit(1)
            }
        }
    }

    private func finish(_ draft: TransactionDraft, _ ending: HandlerEnding) async {
        await transport?.flush(body: events.flushBody(draft, ending: ending, endMicros: epochMicrosecondsNow()))
    }
}

/// A small Runtime API 2018-06-01 client.
struct RuntimeAPIClient: Sendable {
    let client: HTTPClient
    let api: String

    private var base: String { "http://\(api)/2018-06-01/runtime" }

    /// `GET /invocation/next`: blocks until the next event, without a client timeout (the environment may freeze).
    func next() async throws -> (SampleInvocation, ByteBuffer) {
        let request = HTTPClientRequest(url: base + "/invocation/next")
        let response = try await client.execute(request, deadline: .distantFuture)
        let body = try await response.body.collect(upTo: 7 * 1024 * 1024)
        guard response.status == .ok, let requestID = response.headers.first(name: "lambda-runtime-aws-request-id") else {
            throw DemoError(.runtimeAPI, "GET /next answered \(response.status.code): \(String(buffer: body))")
        }
        let invocation = SampleInvocation(
            requestID: requestID,
            functionARN: response.headers.first(name: "lambda-runtime-invoked-function-arn") ?? "",
            deadlineMs: response.headers.first(name: "lambda-runtime-deadline-ms").flatMap { Int64($0) }
                ?? Int64(Date().timeIntervalSince1970 * 1000) + 3_000,
            traceHeader: response.headers.first(name: "lambda-runtime-trace-id"))
        return (invocation, body)
    }

    /// `POST /invocation/{id}/response`.
    func respond(requestID: String, body: String) async throws {
        var request = HTTPClientRequest(url: base + "/invocation/\(requestID)/response")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        try await post(request)
    }

    /// `POST /invocation/{id}/error` with the conventional error body and error-type header.
    func error(requestID: String, type: String, message: String) async throws {
        var request = HTTPClientRequest(url: base + "/invocation/\(requestID)/error")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "lambda-runtime-function-error-type", value: type)
        let body = try JSONEncoder().encode(["errorMessage": message, "errorType": type])
        request.body = .bytes(ByteBuffer(bytes: body))
        try await post(request)
    }

    private func post(_ request: HTTPClientRequest) async throws {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw DemoError(.runtimeAPI, "\(request.url) answered \(response.status.code): \(String(buffer: body))")
        }
    }
}
