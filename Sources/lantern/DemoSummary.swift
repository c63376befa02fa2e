// What `lantern demo` prints at the end: what the caller saw per kind, what the recording APM Server
// received, and the store's own account (`lantern query stats`).

import Foundation
import Subprocess
import SystemPackage  // FilePath, which Subprocess uses for executables (swift-system, a Subprocess dependency)

/// The end-of-run report.
struct DemoSummary {
    var tally: InvokeTally
    var apm: RecordingAPMServer.Snapshot
    var apmURL: String
    var elapsed: Duration
    var mix: DemoMix
    var seed: UInt64
    var dbPath: String
    var logPath: String
    var emulatorStatus: TerminationStatus
    var lantern: String

    func print() async {
        let byKind = await tally.byKind
        let total = await tally.total
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Swift.print("")
        Swift.print("lantern demo: \(total) invocations in \(String(format: "%.1f", seconds)) s (mix \(mix), seed \(seed))")
        Swift.print("  " + pad("kind", 9) + pad("sent", 6) + pad("ok", 6) + "function errors")
        for kind in DemoKind.allCases {
            guard let row = byKind[kind] else { continue }
            let errors = row.failedByType.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
            let other = row.other > 0 ? "  (\(row.other) not answered)" : ""
            Swift.print("  " + pad(kind.rawValue, 9) + pad(String(row.sent), 6) + pad(String(row.succeeded), 6) + (errors.isEmpty ? "-" : errors) + other)
        }
        if let firstError = await tally.firstError { Swift.print("  first invoke problem: \(firstError)") }
        let events = apm.eventsByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        Swift.print("recording APM Server \(apmURL): \(apm.intakeRequests) intake requests (\(apm.rejectedRequests) rejected), \(apm.infoRequests) info probes; events: \(events.isEmpty ? "none" : events)")
        Swift.print("emulator: \(emulatorStatus); its output is in \(logPath)")
        Swift.print("store: \(dbPath)")
        await printStoreStats()
    }

    /// `lantern query stats --db <db>`, if this build has it.
    private func printStoreStats() async {
        guard Lantern.hasSubcommand("query") else {
            Swift.print("(this build has no `lantern query`; open the store with any SQLite client)")
            return
        }
        let result = try? await Subprocess.run(
            .path(FilePath(lantern)), arguments: ["query", "stats", "--db", dbPath],
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 16))
        if let result, result.terminationStatus.isSuccess {
            let text = result.standardOutput
            Swift.print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        } else {
            let reason = result?.standardError.split(separator: "\n").first.map(String.init) ?? "could not run it"
            Swift.print("(lantern query stats --db \(dbPath): \(reason))")
        }
        Swift.print("explore it with: lantern query --db \(dbPath) ...")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
