import ArgumentParser
import Foundation
import LanternStore

/// `lantern import`: a fleet's lifecycle events, exported from Elasticsearch or recorded by `lantern demo
/// --apm-events`, into a store that `lantern dash` and `lantern query` read like a local one.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read lantern.lifecycle events (ndjson) back into a store: many environments, many functions.",
        discussion: """
            Each line is an Elasticsearch document (the _source of a search hit, or the whole hit) or an intake \
            line as `lantern demo --apm-events` records it ({"log": {...}}). Lines of other events are skipped \
            and counted. Importing the same events again changes nothing. Lines are committed in transactions of \
            \(Import.linesPerTransaction) lines, each line whole or not at all; bad lines are reported on stderr \
            with their line numbers and make the exit status 1 (the good lines are imported).
            """)

    static let linesPerTransaction = 5_000

    @Argument(help: "ndjson files of lifecycle events.")
    var files: [String]

    @Option(help: "The store to write (created if missing; default: $LANTERN_DB, else ./lantern.db).")
    var db: String?

    func run() throws {
        let path = db ?? ProcessInfo.processInfo.environment["LANTERN_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./lantern.db"
        let writer: ImportWriter
        do {
            writer = try ImportWriter(path: path)
        } catch {
            Self.fail("\(path): \(error)")
        }
        defer { writer.close() }
        var tally = ImportTally()
        let started = DispatchTime.now()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                Self.complain("\(file): cannot read the file")
                tally.unreadableFiles += 1
                continue
            }
            var batch: [ImportedFacts] = []
            var batchLines: [Int] = []
            func commit() throws {
                let refused = try writer.write(batch)
                for (index, error) in refused {
                    Self.complain("\(file):\(batchLines[index]): refused by the store: \(error.message)")
                }
                tally.badLines += refused.count
                tally.written += batch.count - refused.count
                batch.removeAll(keepingCapacity: true)
                batchLines.removeAll(keepingCapacity: true)
            }
            var number = 0
            var start = data.startIndex
            // Lines split on bytes: splitting a String walks grapheme clusters, slow over 100 MB.
            while start < data.endIndex {
                let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
                let line = data[start..<end]
                start = end < data.endIndex ? data.index(after: end) : end
                number += 1
                do {
                    switch try FleetEvent.parse(line) {
                    case .blank: continue
                    case .other: tally.otherEvents += 1
                    case .facts(let facts):
                        if facts.invocation != nil { tally.invocations += 1 } else { tally.shutdowns += 1 }
                        tally.environments.insert(facts.environment.id)
                        if let name = facts.environment.functionName { tally.functions.insert(name) }
                        batch.append(facts)
                        batchLines.append(number)
                        if batch.count >= Self.linesPerTransaction { try commit() }
                    }
                } catch let error as FleetLineError {
                    Self.complain("\(file):\(number): \(error.description)")
                    tally.badLines += 1
                } catch {
                    Self.fail("\(path): \(error) (the lines before this transaction are imported)")
                }
            }
            do { try commit() } catch { Self.fail("\(path): \(error) (the lines before this transaction are imported)") }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        print(tally.summary(into: path, seconds: seconds))
        if tally.badLines > 0 || tally.unreadableFiles > 0 { throw ExitCode(1) }
    }

    static func complain(_ message: String) {
        FileHandle.standardError.write(Data("lantern import: \(message)\n".utf8))
    }

    static func fail(_ message: String) -> Never {
        complain(message)
        Foundation.exit(1)
    }
}

/// What an import read and wrote.
struct ImportTally {
    var invocations = 0
    var shutdowns = 0
    /// Lifecycle lines committed (new or unchanged).
    var written = 0
    var otherEvents = 0
    var badLines = 0
    var unreadableFiles = 0
    var environments: Set<String> = []
    var functions: Set<String> = []

    func summary(into path: String, seconds: Double) -> String {
        let rate = seconds > 0 ? Int(Double(written) / seconds) : written
        return """
            lantern import: \(written) lifecycle events into \(path) (\(invocations) invocations, \(shutdowns) shutdowns; \
            \(environments.count) environments, \(functions.count) functions) in \(String(format: "%.2f", seconds)) s \
            (\(rate)/s); \(otherEvents) other events skipped; \(badLines) bad lines
            """
    }
}
