// The demo's traffic: one invocation at a time (or up to the max concurrency on Managed Instances) at a steady rate, each asking the sample function
// for one behaviour of the mix, and a tally of what the caller saw.

import AsyncHTTPClient
import Foundation
import NIOCore

/// What the caller saw for one kind of invocation.
struct KindTally: Sendable, Equatable {
    var sent = 0
    /// 200 without `X-Amz-Function-Error`.
    var succeeded = 0
    /// Function errors by the error type in the body (or the header's value when the body has none).
    var failedByType: [String: Int] = [:]
    /// Anything else: unexpected status codes, transport errors.
    var other = 0
}

/// The invoker's running record, read by the summary.
actor InvokeTally {
    private(set) var byKind: [DemoKind: KindTally] = [:]
    private(set) var firstError: String?

    func sent(_ kind: DemoKind) { byKind[kind, default: KindTally()].sent += 1 }
    func succeeded(_ kind: DemoKind) { byKind[kind, default: KindTally()].succeeded += 1 }
    func failed(_ kind: DemoKind, type: String) { byKind[kind, default: KindTally()].failedByType[type, default: 0] += 1 }
    func other(_ kind: DemoKind, _ detail: String) {
        byKind[kind, default: KindTally()].other += 1
        if firstError == nil { firstError = detail }
    }

    var total: Int { byKind.values.reduce(0) { $0 + $1.sent } }
}

/// Sends invocations to the emulator's invoke endpoint.
struct DemoInvoker: Sendable {
    var client: HTTPClient
    var url: String
    var mix: DemoMix
    /// nil: until cancelled.
    var count: Int?
    var rate: Double
    var seed: UInt64
    var functionTimeoutSeconds: Int
    /// Invocations in flight at once: 1 on classic Lambda, up to the max concurrency on Managed Instances.
    var concurrency = 1

    /// Invokes until `count` is reached or the task is cancelled.
    func run(tally: InvokeTally) async {
        await withTaskGroup(of: Void.self) { inFlight in
            await run(tally: tally, inFlight: &inFlight)
            await inFlight.waitForAll()
        }
    }

    /// The pacing loop. One at a time (classic), the invocation is awaited here; with `concurrency` > 1 it runs
    /// in `inFlight`, and the loop waits for a free slot only when `concurrency` are already out.
    private func run(tally: InvokeTally, inFlight: inout TaskGroup<Void>) async {
        var running = 0
        var generator = SeededGenerator(seed: seed ^ 0x5EED)
        let interval = Duration.seconds(1 / rate)
        let clock = ContinuousClock()
        var nextStart = clock.now
        var block: [DemoKind] = []
        var index = 0
        var blockNumber: UInt64 = 0
        while !Task.isCancelled {
            if let count, index >= count { return }
            if block.isEmpty {
                // A known count gets exact proportions; an open-ended run repeats shuffled blocks of the mix.
                block = count.map { mix.schedule(count: $0, seed: seed) }
                    ?? mix.schedule(count: max(mix.total, 1), seed: seed &+ blockNumber)
                blockNumber += 1
                block.reverse()
            }
            let kind = block.removeLast()
            index += 1
            let sleepMs = kind.sleepMilliseconds(using: &generator)
            if concurrency <= 1 {
                await invoke(kind, sleepMs: sleepMs, tally: tally)
            } else {
                if running >= concurrency, await inFlight.next() != nil { running -= 1 }
                inFlight.addTask { await self.invoke(kind, sleepMs: sleepMs, tally: tally) }
                running += 1
            }
            nextStart = max(nextStart + interval, clock.now)
            try? await clock.sleep(until: nextStart)
        }
    }

    private func invoke(_ kind: DemoKind, sleepMs: Int, tally: InvokeTally) async {
        await tally.sent(kind)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"kind":"\#(kind.rawValue)","sleepMs":\#(sleepMs)}"#))
        do {
            // Generous: a timeout invocation lasts the function timeout plus the reset and the next init.
            let response = try await client.execute(request, timeout: .seconds(Int64(functionTimeoutSeconds) + 60))
            let body = try await response.body.collect(upTo: 7 * 1024 * 1024)
            let functionError = response.headers.first(name: "x-amz-function-error")
            switch (response.status.code, functionError) {
            case (200, nil):
                await tally.succeeded(kind)
            case (_, let header?):
                await tally.failed(kind, type: Self.errorType(in: body) ?? header)
            default:
                await tally.other(kind, "HTTP \(response.status.code): \(String(buffer: body).prefix(200))")
            }
        } catch {
            guard !Task.isCancelled else { return }
            await tally.other(kind, "\(error)")
        }
    }

    private static func errorType(in body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else { return nil }
        return object["errorType"] as? String
    }
}
