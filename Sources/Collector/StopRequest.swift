// How `ServiceSequence` asks one service to stop: a flag set once, and waiters woken when it is set.

import Synchronization

/// A one-time request for a service to finish its work and return; also ends a wait when the waiting task is cancelled.
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether the stop has been asked for.
    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Asks the service to stop; every waiter resumes. Asking again does nothing.
    public func request() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.requested else { return [] }
            state.requested = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the stop is requested or the calling task is cancelled, whichever comes first.
    public func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.requested || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs `body`, cancelling it when the stop is requested (the way a long poll is cut short by a signal).
    public func cancelling<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await self.wait()
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
                // The stop came first: cancel the body and let it report how it ended.
                group.cancelAll()
            }
            throw CancellationError()
        }
    }
}
