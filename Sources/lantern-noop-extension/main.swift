// `lantern-noop-extension`: the floor of Lantern's overhead benchmarks. It registers for INVOKE and
// SHUTDOWN and calls `next` until SHUTDOWN, doing nothing else. A separate tiny executable (not a
// `lantern-bench` subcommand) so its start-up cost is that of a small Swift binary on the same HTTP
// stack as the collector (AsyncHTTPClient on SwiftNIO, no Foundation), not of the big bench binary.

import AsyncHTTPClient
import FoundationEssentials
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The one field of an Extensions API event the loop needs.
struct NextEvent: Decodable {
    var eventType: String
}

func fail(_ message: String) -> Never {
    let text = "lantern-noop-extension: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

guard let apiValue = getenv("AWS_LAMBDA_RUNTIME_API"), !String(cString: apiValue).isEmpty else {
    fail("AWS_LAMBDA_RUNTIME_API is not set: run this as an extension (e.g. under `lantern emulate`)")
}
let base = "http://\(String(cString: apiValue))/2020-01-01/extension"
// Lambda registers an extension under its file name.
let name = CommandLine.arguments[0].split(separator: "/").last.map(String.init) ?? "lantern-noop-extension"

var configuration = HTTPClient.Configuration()
// `next` blocks while the environment is idle: no read timeout.
configuration.timeout = .init(connect: .seconds(2), read: nil)
let client = HTTPClient(configuration: configuration)

do {
    var register = HTTPClientRequest(url: base + "/register")
    register.method = .POST
    register.headers.add(name: "Lambda-Extension-Name", value: name)
    register.body = .bytes(ByteBuffer(string: #"{"events":["INVOKE","SHUTDOWN"]}"#))
    let registered = try await client.execute(register, deadline: .distantFuture)
    let registerBody = try await registered.body.collect(upTo: 1 << 20)
    guard registered.status == .ok, let id = registered.headers.first(name: "Lambda-Extension-Identifier") else {
        fail("register answered \(registered.status.code): \(String(buffer: registerBody))")
    }
    while true {
        var next = HTTPClientRequest(url: base + "/event/next")
        next.headers.add(name: "Lambda-Extension-Identifier", value: id)
        let response = try await client.execute(next, deadline: .distantFuture)
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { fail("next answered \(response.status.code): \(String(buffer: body))") }
        let event = try JSONDecoder().decode(NextEvent.self, from: Data(body.readableBytesView))
        // Exit at once, as the cheapest extension would; the kernel closes the connections.
        if event.eventType == "SHUTDOWN" { exit(0) }
    }
} catch {
    fail("\(error)")
}
