// ServiceSequence: the first service to end (or a signal) stops the rest in reverse start order, one at a time;
// StopRequest: waits end on the request or on cancellation, and `cancelling` cuts a body short.

import Collector
import Glibc
import Logging
import Synchronization
import Testing
import UnixSignals

/// What the services saw, in order.
private final class Journal: Sendable {
    private let lines = Mutex<[String]>([])
    func note(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Waits for its stop, then takes a moment to close, so a stop order that did not wait would show.
private struct Closing: CollectorService {
    let name: String
    let journal: Journal
    var fails = false

    func run(until stop: StopRequest) async throws {
        journal.note("\(name) started")
        await stop.wait()
        journal.note("\(name) asked")
        try? await Task.sleep(for: .milliseconds(20))
        journal.note("\(name) closed")
    }
}

/// Ends by itself after `after`, returning or throwing.
private struct Ending: CollectorService {
    struct Failure: Error {}
    let name: String
    let journal: Journal
    let after: Duration
    let throwing: Bool

    func run(until stop: StopRequest) async throws {
        journal.note("\(name) started")
        try await Task.sleep(for: after)
        journal.note("\(name) ended")
        if throwing { throw Failure() }
    }
}

@Suite struct ServiceSequenceTests {
    let logger = Logger(label: "test")

    @Test func theFirstToEndStopsTheOthersInReverseStartOrder() async throws {
        let journal = Journal()
        try await ServiceSequence(services: [
            Closing(name: "receiver", journal: journal),
            Closing(name: "telemetry", journal: journal),
            Ending(name: "loop", journal: journal, after: .milliseconds(50), throwing: false),
        ], signals: [], logger: logger).run()
        let afterStart = journal.all.drop { $0.hasSuffix("started") }
        #expect(Array(afterStart) == [
            "loop ended", "telemetry asked", "telemetry closed", "receiver asked", "receiver closed",
        ])
    }

    @Test func aServiceErrorStopsTheOthersAndIsRethrown() async {
        let journal = Journal()
        await #expect(throws: Ending.Failure.self) {
            try await ServiceSequence(services: [
                Closing(name: "receiver", journal: journal),
                Ending(name: "loop", journal: journal, after: .milliseconds(10), throwing: true),
            ], signals: [], logger: logger).run()
        }
        #expect(journal.all.suffix(3) == ["loop ended", "receiver asked", "receiver closed"])
    }

    @Test func aSignalStopsEveryService() async throws {
        let journal = Journal()
        let sequence = ServiceSequence(services: [
            Closing(name: "receiver", journal: journal),
            Closing(name: "loop", journal: journal),
        ], signals: [.sigusr2], logger: logger)
        let running = Task { try await sequence.run() }
        // The handler is in place once the services run (the sequence registers it first).
        while journal.all.filter({ $0.hasSuffix("started") }).count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        kill(getpid(), SIGUSR2)
        try await running.value
        #expect(journal.all.suffix(4) == ["loop asked", "loop closed", "receiver asked", "receiver closed"])
    }

    @Test func stopRequestEndsWaitsAndCutsBodiesShort() async throws {
        let stop = StopRequest()
        let waiting = Task { await stop.wait() }
        let body = Task {
            try await stop.cancelling { () async throws -> Int in
                try await Task.sleep(for: .seconds(30))
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(!stop.isRequested)
        stop.request()
        await waiting.value
        await #expect(throws: CancellationError.self) { try await body.value }
        #expect(stop.isRequested)
        // A body that finishes first keeps its result; a wait after the request returns at once.
        #expect(try await StopRequest().cancelling { 7 } == 7)
        await stop.wait()
    }

    @Test func cancellingTheWaiterEndsItsWait() async {
        let stop = StopRequest()
        let waiting = Task { await stop.wait() }
        waiting.cancel()
        await waiting.value
        #expect(!stop.isRequested)
    }
}
