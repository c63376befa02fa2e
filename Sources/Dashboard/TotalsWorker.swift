import Dispatch
import Synchronization

/// Computes the header totals on a background queue with its own read-only connection, so a count over
/// a million rows never delays a key press. At most one computation runs at a time.
final class TotalsWorker: Sendable {
    private struct State {
        var running = false
        var result: Result<HeaderTotals, DashboardError>?
    }

    private let path: String
    private let state = Mutex(State())

    init(path: String) { self.path = path }

    /// Whether a computation is under way.
    var isRunning: Bool { state.withLock { $0.running } }

    /// Starts a computation unless one is running. Returns whether it started.
    @discardableResult
    func start() -> Bool {
        let started = state.withLock { s in
            if s.running { return false }
            s.running = true
            return true
        }
        guard started else { return false }
        let path = self.path
        DispatchQueue.global(qos: .utility).async {
            let result: Result<HeaderTotals, DashboardError>
            do throws(DashboardError) {
                result = .success(try StoreTail(path: path).totals())
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
    func take() -> Result<HeaderTotals, DashboardError>? {
        state.withLock { s in
            defer { s.result = nil }
            return s.result
        }
    }
}
