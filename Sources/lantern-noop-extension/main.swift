// `lantern-noop-extension`: the floor of Lantern's overhead benchmarks. It registers for INVOKE and
// SHUTDOWN (SHUTDOWN only on Managed Instances, as the collector) and calls `next` until SHUTDOWN, doing nothing else. A separate tiny executable (not a
// `lantern-bench` subcommand) so its start-up cost is that of a small Swift binary on the same HTTP
// stack as the collector (the Collector's `ExtensionsClient` on SwiftNIO), not of the big bench binary.

import Collector
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    let text = "lantern-noop-extension: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

guard let apiValue = getenv("AWS_LAMBDA_RUNTIME_API"), !String(cString: apiValue).isEmpty else {
    fail("AWS_LAMBDA_RUNTIME_API is not set: run this as an extension (e.g. under `lantern emulate`)")
}
// Lambda registers an extension under its file name.
let name = CommandLine.arguments[0].split(separator: "/").last.map(String.init) ?? "lantern-noop-extension"
let client = ExtensionsClient(runtimeAPI: String(cString: apiValue), eventLoopGroup: MultiThreadedEventLoopGroup.singleton)

let mode = ExecutionMode(
    initializationType: getenv("AWS_LAMBDA_INITIALIZATION_TYPE").map { String(cString: $0) },
    maxConcurrency: getenv("AWS_LAMBDA_MAX_CONCURRENCY").map { String(cString: $0) })

do {
    let registration = try await client.register(name: name, events: mode.registrationEvents)
    while true {
        let event = try await client.next(identifier: registration.identifier)
        // Exit at once, as the cheapest extension would; the kernel closes the connections.
        if event.eventType == .shutdown { exit(0) }
    }
} catch {
    fail("\(error)")
}
