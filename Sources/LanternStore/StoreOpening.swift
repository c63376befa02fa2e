#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The background writer's way to a connection when the store cannot be opened at once: a full or read-only disk,
/// a folder that is not there yet, another process holding the write lock. Recording must survive all of them and
/// resume by itself when the fault clears, without costing the function anything: the writer thread retries with
/// backoff, holds the newest records meanwhile (bounded), and says once what is wrong and once that it is over.
struct StoreOpening {
    let path: String
    let options: Recorder.Options
    let queue: RecordQueue
    let onFailure: @Sendable (StoreError) -> Void
    let onRecovery: @Sendable (String) -> Void

    /// Opens with `open`, retrying while that can help; nil when recording ends (the queue was answered).
    func connectionWhenPossible(open: (String, Recorder.Options) throws(StoreError) -> Connection) -> Connection? {
        var held: [StoreRecord] = []
        var failure: (error: StoreError, since: Int64)?
        var dropped = 0
        var movedAside: String?
        var delay = options.reopenDelaysMs.first
        while true {
            do throws(StoreError) {
                let connection = try open(path, options)
                var notes: [StoreRecord] = []
                if let movedAside {
                    let detail = "\(path) was not a readable SQLite file; moved aside to \(movedAside), a new store started"
                    notes.append(.lifecycle(LifecycleEvent(at: epochMicros(), kind: "store_moved_aside", name: "recorder", detail: detail)))
                    onRecovery(detail)
                }
                if let failure {
                    let seconds = Double(epochMicros() - failure.since) / 1_000_000
                    let detail = "store usable again after \(Int(seconds.rounded())) s (\(failure.error.message)); \(dropped) records dropped meanwhile"
                    notes.append(.lifecycle(LifecycleEvent(at: epochMicros(), kind: "store_recovered", name: "recorder", detail: detail)))
                    queue.markUnavailable(nil)
                    onRecovery(detail)
                }
                queue.prepend(notes + held)
                // The notes were never counted as accepted: count them now, so flushes still add up.
                queue.updateStatistics { $0.accepted += notes.count }
                return connection
            } catch {
                if movedAside == nil, Self.isCorrupt(error), let aside = Self.moveAside(path) {
                    movedAside = aside
                    continue
                }
                if failure == nil { onFailure(error) }
                if Self.mustBeLeftAlone(error) || queue.isClosing {
                    queue.prepend(held)
                    queue.openFailed(error)
                    return nil
                }
                if failure == nil { failure = (error, epochMicros()) }
                failure?.error = error
                queue.markUnavailable(error)
                var arrived: [StoreRecord] = []
                if queue.poll(into: &arrived) { held += arrived }
                if held.count > options.holdWhileUnavailable {
                    let excess = held.count - options.holdWhileUnavailable
                    held.removeFirst(excess)
                    dropped += excess
                    queue.droppedHeld(excess, error: error)
                }
                queue.doze(milliseconds: delay)
                delay = min(delay * 2, options.reopenDelaysMs.longest)
            }
        }
    }

    /// Another application's database, or a store from a newer Lantern: never touched, so no retry can help.
    static func mustBeLeftAlone(_ error: StoreError) -> Bool {
        (error.code == .notAStore && !isCorrupt(error)) || error.code == .newerSchema
    }

    /// Not a SQLite file, or a damaged one (SQLITE_NOTADB, SQLITE_CORRUPT).
    static func isCorrupt(_ error: StoreError) -> Bool {
        guard let code = error.sqliteCode else { return false }
        return code & 0xff == 26 || code & 0xff == 11
    }

    /// Renames the store and its -wal / -shm to `<path>.corrupt-<epoch seconds>…` (a stale WAL must not be
    /// replayed into a new store); never deletes them. Returns the new name of the store.
    static func moveAside(_ path: String) -> String? {
        let aside = "\(path).corrupt-\(epochMicros() / 1_000_000)"
        guard rename(path, aside) == 0 else { return nil }
        for suffix in ["-wal", "-shm"] where access(path + suffix, F_OK) == 0 {
            _ = rename(path + suffix, aside + suffix)
        }
        return aside
    }
}
