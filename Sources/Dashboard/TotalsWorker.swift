import Dispatch
import Synchronization

/// What one run of the worker found.
enum TotalsOutcome: Sendable, Equatable {
    /// Fresh totals, and the store's totals revision read before counting them.
    case counted(HeaderTotals, revision: Int64)
    /// The totals revision is still the one given to `start`: nothing was counted.
    case unchanged
}

/// Computes the header totals on a background queue with its own read-only connection, so a count over
/// a million rows never delays a key press. At most one computation runs at a time.
final class TotalsWorker: Sendable {
    private struct State {
        var running = false
        var result: Result<TotalsOutcome, DashboardError>?
    }

    private let path: String
    private let scope: StoreScope
    private let state = Mutex(State())

    init(path: String, scope: StoreScope = StoreScope()) {
        self.path = path
        self.scope = scope
    }

    /// Whether a computation is under way.
    var isRunning: Bool { state.withLock { $0.running } }

    /// Starts a computation unless one is running. Returns whether it started. With `revision`, the totals
    /// counted at that totals revision, it counts only when the store has moved on since.
    @discardableResult
    func start(unlessAt revision: Int64? = nil) -> Bool {
        let started = state.withLock { s in
            if s.running { return false }
            s.running = true
            return true
        }
        guard started else { return false }
        let path = self.path
        let scope = self.scope
        DispatchQueue.global(qos: .utility).async {
            let result: Result<TotalsOutcome, DashboardError>
            do throws(DashboardError) {
                let tail = try StoreTail(path: path, scope: scope)
                // Read before counting: a commit during the count then shows as a newer revision next time.
                let now = try tail.totalsRevision()
                result = .success(now == revision ? .unchanged : .counted(try tail.totals(), revision: now))
            } catch {
                result = .failure(error)
            }
            self.state.withLock { s in
                s.running = false
                s.result = result
            }
        }
        return true
    }

    /// The finished result, once (nil while none arrived since the last call).
    func take() -> Result<TotalsOutcome, DashboardError>? {
        state.withLock { s in
            defer { s.result = nil }
            return s.result
        }
    }
}
