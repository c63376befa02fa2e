import ArgumentParser
import Dashboard
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `lantern dash`: the live terminal dashboard over a store.
struct Dash: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch the store live: invocations, flush reasons, proxies, shutdowns, forwarder health.",
        discussion: "Press ? inside the dashboard for every key. q quits.")

    @Option(name: .long, help: "The store to watch (default: $LANTERN_DB, else ./lantern.db).")
    var db: String?

    @Flag(name: .long, help: "Draw with ASCII instead of Unicode box and block characters.")
    var ascii = false

    @Option(help: "Only this function's environments (a fleet store from `lantern import` holds many).")
    var function: String?

    @Option(help: "Only this execution environment id.")
    var environment: String?

    func run() throws {
        let path = db ?? ProcessInfo.processInfo.environment["LANTERN_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./lantern.db"
        // Under `lantern demo`: quit (restoring the terminal) when the demo is gone.
        let watch = ParentWatch.fromEnvironment { _ = kill(getpid(), SIGTERM) }
        defer { watch?.cancel() }
        let status = DashboardApp(path: path, ascii: ascii, functionName: function, environmentID: environment).run()
        if status != 0 { throw ExitCode(status) }
    }
}
