import AsyncHTTPClient
import Foundation
import LambdaWire
import NIOCore
import NIOHTTP1

/// Which API a subscriber used: the record shapes differ.
enum SubscriptionAPI: Sendable, Equatable {
    case telemetry
    /// The Logs API, with its schema version (`2021-03-18` adds `platform.runtimeDone`).
    case logs(schema: String)
}

/// Per-subscriber buffering and delivery of Telemetry and Logs API events by HTTP POST, Lambda's way:
/// batches by count, bytes or age; retries while the listener is down; drops what does not fit and says so with
/// `platform.logsDropped`; replays the events of the current init to those who subscribe during it.
actor TelemetryHub {
    struct Subscriber {
        var extensionID: String
        var name: String
        var api: SubscriptionAPI
        var categories: Set<TelemetryCategory>
        var destination: URL
        var maxItems: Int
        var maxBytes: Int
        var timeoutMs: Int
        var queue: [[UInt8]] = []
        var queuedBytes = 0
        var oldestQueuedAt: ContinuousClock.Instant?
        var droppedRecords = 0
        var droppedBytes = 0
        var delivered = 0
        var failures = 0
        var flushRequested = false
        var doorbell: AsyncStream<Void>.Continuation
        var loop: Task<Void, Never>?
    }

    private var subscribers: [String: Subscriber] = [:]
    /// Events since the current init began, replayed to late subscribers.
    private var initBacklog: [TelemetryEvent] = []
    private var recordingBacklog = false
    /// The subscribers are frozen: deliveries wait for the thaw (Lambda delivers after it).
    private var paused = false
    /// Deliveries under way now, which a pause lets finish before the freeze.
    private var inFlight = 0
    private let client: HTTPClient
    private let console: Console

    init(console: Console, client: HTTPClient = .shared) {
        self.console = console
        self.client = client
    }

    // MARK: Subscriptions

    /// The destination Lambda would deliver to: `sandbox.localdomain`/`sandbox` become 127.0.0.1, the path stays.
    static func deliveryURL(for destination: TelemetryDestination, reservedPort: Int) throws(APIFailure) -> URL {
        let proto = destination.protocol.uppercased()
        guard proto == "HTTP" else {
            if proto == "TCP" {
                throw APIFailure(400, WireErrorType.telemetryValidation, "destination.protocol TCP is not supported by lantern emulate; use HTTP")
            }
            throw APIFailure(400, WireErrorType.telemetryValidation, "destination.protocol must be HTTP or TCP, got '\(destination.protocol)'")
        }
        guard let uri = destination.URI, let components = URLComponents(string: uri), components.scheme?.lowercased() == "http",
              let host = components.host?.lowercased()
        else {
            throw APIFailure(400, WireErrorType.telemetryValidation, "destination.URI must be an http:// URI, got '\(destination.URI ?? "nothing")'")
        }
        let local = TelemetryAPI.sandboxHosts + ["localhost", "127.0.0.1"]
        guard local.contains(host) else {
            throw APIFailure(400, WireErrorType.telemetryValidation, "destination.URI host must be sandbox.localdomain (a listener inside the sandbox), got '\(host)'")
        }
        let port = components.port ?? 80
        guard port != reservedPort, port != 9001 else {
            throw APIFailure(400, WireErrorType.telemetryValidation, "destination port \(port) is reserved for the Lambda APIs")
        }
        var rewritten = components
        rewritten.host = "127.0.0.1"
        rewritten.port = port
        guard let url = rewritten.url else {
            throw APIFailure(400, WireErrorType.telemetryValidation, "destination.URI '\(uri)' is not a valid URI")
        }
        return url
    }

    /// Whether this extension already subscribed through `api`'s other sibling (an extension uses one of the two).
    func existingAPI(of extensionID: String) -> SubscriptionAPI? { subscribers[extensionID]?.api }

    /// Adds (or, for the idempotent Logs API, replaces) a subscriber and replays the current init's events to it.
    func subscribe(
        extensionID: String, name: String, api: SubscriptionAPI, categories: Set<TelemetryCategory>, destination: URL,
        buffering: TelemetryBuffering
    ) {
        if let old = subscribers.removeValue(forKey: extensionID) {
            old.doorbell.finish()
            old.loop?.cancel()
        }
        let b = buffering.effective
        let (stream, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var subscriber = Subscriber(
            extensionID: extensionID, name: name, api: api, categories: categories, destination: destination,
            maxItems: b.maxItems, maxBytes: b.maxBytes, timeoutMs: b.timeoutMs, doorbell: doorbell)
        subscriber.loop = Task { [weak self] in await self?.deliveryLoop(extensionID, doorbell: stream) }
        subscribers[extensionID] = subscriber
        for event in initBacklog { enqueue(event, to: extensionID) }
    }

    /// Forgets every subscriber (their processes are gone after a reset); undelivered events are lost, as in Lambda.
    func removeAll() {
        for (_, s) in subscribers {
            s.doorbell.finish()
            s.loop?.cancel()
        }
        subscribers = [:]
    }

    /// Starts recording the events of a new init, for replay.
    func beginInit() {
        initBacklog = []
        recordingBacklog = true
    }

    /// Stops recording (subscriptions are closed).
    func endInit() {
        recordingBacklog = false
        initBacklog = []
    }

    // MARK: Publishing

    /// Hands an event to every subscriber that asked for its category (shaped for their API).
    func publish(_ record: TelemetryRecord, at epochMillis: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        let event = TelemetryEvent(time: WireTime.format(epochMillis: epochMillis), record: record)
        if recordingBacklog, initBacklog.count < 10_000 { initBacklog.append(event) }
        for id in subscribers.keys { enqueue(event, to: id) }
    }

    private func enqueue(_ event: TelemetryEvent, to id: String) {
        guard var s = subscribers[id], s.categories.contains(event.record.category),
              let shaped = Self.shape(event, for: s.api),
              let bytes = try? WireJSON.encode(shaped)
        else { return }
        // A subscriber may fall behind by up to twice its batch limits; beyond that Lambda drops records.
        if s.queue.count >= 2 * s.maxItems || s.queuedBytes + bytes.count > 2 * s.maxBytes {
            s.droppedRecords += 1
            s.droppedBytes += bytes.count
        } else {
            if s.queue.isEmpty { s.oldestQueuedAt = .now }
            s.queue.append(bytes)
            s.queuedBytes += bytes.count
        }
        subscribers[id] = s
        s.doorbell.yield()
    }

    /// The event as the subscriber's API shows it, or nil when that API has no such event.
    static func shape(_ event: TelemetryEvent, for api: SubscriptionAPI) -> TelemetryEvent? {
        switch api {
        case .telemetry:
            switch event.record {
            case .end, .fault, .logsSubscription: return nil
            default: return event
            }
        case .logs(let schema):
            var e = event
            switch event.record {
            case .initStart, .initRuntimeDone, .initReport, .telemetrySubscription,
                 .restoreStart, .restoreRuntimeDone, .restoreReport:
                return nil
            case .start(let r):
                e.record = .start(PlatformStart(requestId: r.requestId, version: r.version))
            case .runtimeDone(let r):
                guard schema == "2021-03-18" else { return nil }
                e.record = .unknown(type: TelemetryEventType.runtimeDone, record: .object([
                    "requestId": .string(r.requestId), "status": .string(r.status.rawValue),
                ]))
            case .report(let r):
                var metrics: [String: JSONValue] = ["durationMs": .number(r.metrics.durationMs)]
                if let v = r.metrics.billedDurationMs { metrics["billedDurationMs"] = .number(Double(v)) }
                if let v = r.metrics.memorySizeMB { metrics["memorySizeMB"] = .number(Double(v)) }
                if let v = r.metrics.maxMemoryUsedMB { metrics["maxMemoryUsedMB"] = .number(Double(v)) }
                if let v = r.metrics.initDurationMs { metrics["initDurationMs"] = .number(v) }
                e.record = .unknown(type: TelemetryEventType.report, record: .object([
                    "requestId": .string(r.requestId), "metrics": .object(metrics),
                ]))
            default:
                break
            }
            return e
        }
    }

    // MARK: Delivery

    /// Starts no new delivery and waits (briefly) for those under way: a listener frozen mid-request would time the
    /// delivery out and get the batch twice after the thaw.
    func pause() async {
        paused = true
        let until = ContinuousClock.now + .milliseconds(250)
        while inFlight > 0, ContinuousClock.now < until {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Delivers again; what was held goes first.
    func resume() {
        guard paused else { return }
        paused = false
        for s in subscribers.values { s.doorbell.yield() }
    }

    /// Asks every subscriber to deliver what it holds now and waits (up to `limit`) until the queues are empty.
    func flushAll(limit: Duration) async {
        for id in subscribers.keys {
            subscribers[id]?.flushRequested = true
            subscribers[id]?.doorbell.yield()
        }
        let until = ContinuousClock.now + limit
        while ContinuousClock.now < until, subscribers.values.contains(where: { !$0.queue.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private enum Next {
        case deliver(body: [UInt8], count: Int, bytes: Int, dropped: (Int, Int))
        case wait(Duration?)
        case stop
    }

    /// What the loop of subscriber `id` should do now.
    private func next(for id: String) -> Next {
        guard var s = subscribers[id] else { return .stop }
        if paused { return .wait(nil) }
        guard !s.queue.isEmpty || s.droppedRecords > 0 else {
            s.flushRequested = false
            subscribers[id] = s
            return .wait(nil)
        }
        let age = s.oldestQueuedAt.map { ContinuousClock.now - $0 } ?? .zero
        let due = s.flushRequested || s.queue.count >= s.maxItems || s.queuedBytes >= s.maxBytes
            || age >= .milliseconds(s.timeoutMs) || s.droppedRecords > 0
        guard due else { return .wait(.milliseconds(s.timeoutMs) - age) }
        var items: [[UInt8]] = []
        var bytes = 0
        if s.droppedRecords > 0 {
            let dropped = TelemetryEvent(
                time: WireTime.format(epochMillis: Int64(Date().timeIntervalSince1970 * 1000)),
                record: .logsDropped(PlatformLogsDropped(
                    droppedBytes: s.droppedBytes, droppedRecords: s.droppedRecords,
                    reason: "Some logs were dropped because the subscriber did not keep up with the rate they were produced at")))
            if let encoded = try? WireJSON.encode(dropped) { items.append(encoded) }
        }
        var taken = 0
        for item in s.queue {
            if taken > 0, taken >= s.maxItems || bytes + item.count > s.maxBytes { break }
            items.append(item)
            bytes += item.count
            taken += 1
        }
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += item
        }
        body.append(UInt8(ascii: "]"))
        return .deliver(body: body, count: taken, bytes: bytes, dropped: (s.droppedRecords, s.droppedBytes))
    }

    /// The batch reached the listener: remove it from the queue.
    private func delivered(_ id: String, count: Int, bytes: Int, dropped: (Int, Int)) {
        guard var s = subscribers[id] else { return }
        s.queue.removeFirst(min(count, s.queue.count))
        s.queuedBytes -= bytes
        s.droppedRecords -= dropped.0
        s.droppedBytes -= dropped.1
        s.oldestQueuedAt = s.queue.isEmpty ? nil : .now
        s.delivered += count
        s.failures = 0
        subscribers[id] = s
    }

    private func failed(_ id: String, _ why: String) -> Int {
        guard var s = subscribers[id] else { return 0 }
        s.failures += 1
        if s.failures == 1 || s.failures % 50 == 0 {
            console.note("telemetry delivery to \(s.name) at \(s.destination) failed (\(why)); retrying")
        }
        subscribers[id] = s
        return s.failures
    }

    private func destination(of id: String) -> URL? { subscribers[id]?.destination }

    private func deliveryLoop(_ id: String, doorbell: AsyncStream<Void>) async {
        var bell = doorbell.makeAsyncIterator()
        while !Task.isCancelled {
            switch next(for: id) {
            case .stop:
                return
            case .wait(nil):
                guard await bell.next() != nil else { return }
            case .wait(let duration?):
                // Wake at the batch's age limit, or earlier when more events arrive (checked at a short tick).
                try? await Task.sleep(for: min(duration, .milliseconds(20)))
            case .deliver(let body, let count, let bytes, let dropped):
                guard let url = destination(of: id) else { return }
                var request = HTTPClientRequest(url: url.absoluteString)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(body)
                inFlight += 1
                do {
                    let response = try await client.execute(request, timeout: .seconds(5))
                    _ = try? await response.body.collect(upTo: 1 << 20)
                    inFlight -= 1
                    if (200..<300).contains(Int(response.status.code)) {
                        delivered(id, count: count, bytes: bytes, dropped: dropped)
                        continue
                    }
                    let failures = failed(id, "HTTP \(response.status.code)")
                    try? await Task.sleep(for: Self.backoff(failures))
                } catch {
                    inFlight -= 1
                    if Task.isCancelled { return }
                    let failures = failed(id, "\(error)")
                    try? await Task.sleep(for: Self.backoff(failures))
                }
            }
        }
    }

    /// 50 ms doubling to 1 s: a listener that starts a moment after subscribing gets its events quickly.
    static func backoff(_ failures: Int) -> Duration {
        .milliseconds(min(1000, 50 << min(failures - 1, 5)))
    }
}
