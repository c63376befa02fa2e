import Dispatch
import Synchronization

/// A search the dashboard asked for, and the list it applies to.
struct SearchRequest: Sendable, Equatable {
    var term: String
    var direction: SearchDirection
    var tab: Tab
    var filter: InvocationFilter
}

/// Runs searches on a background queue with their own read-only connection. A term that matches nothing reads
/// every row of the tab (about a second at 1,000,000 invocations); meanwhile the dashboard keeps drawing and
/// taking keys. A newer search replaces an older one, whose answer is then dropped.
final class SearchWorker: Sendable {
    private struct State {
        var generation = 0
        var pending: SearchRequest?
        var answer: (request: SearchRequest, result: Result<RowKey?, DashboardError>)?
    }

    private let path: String
    private let state = Mutex(State())

    init(path: String) { self.path = path }

    /// The search under way, if any.
    var pending: SearchRequest? { state.withLock { $0.pending } }

    /// Starts `request` for the list `ui` shows, from the row `from` (nil: the newest end).
    func start(_ request: SearchRequest, in ui: UIState, from: RowKey?) {
        let generation = state.withLock { s in
            s.generation += 1
            s.pending = request
            s.answer = nil
            return s.generation
        }
        let path = self.path
        DispatchQueue.global(qos: .userInitiated).async {
            let result: Result<RowKey?, DashboardError>
            do throws(DashboardError) {
                result = .success(try StoreTail(path: path).find(request.term, in: ui, from: from, direction: request.direction))
            } catch {
                result = .failure(error)
            }
            self.state.withLock { s in
                guard s.generation == generation else { return }
                s.pending = nil
                s.answer = (request, result)
            }
        }
    }

    /// Forgets the search under way (its answer will be dropped).
    func cancel() {
        state.withLock { s in
            s.generation += 1
            s.pending = nil
            s.answer = nil
        }
    }

    /// The answer of the latest search, once.
    func take() -> (request: SearchRequest, result: Result<RowKey?, DashboardError>)? {
        state.withLock { s in
            defer { s.answer = nil }
            return s.answer
        }
    }
}
