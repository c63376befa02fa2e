import Dispatch
import Synchronization

/// The hand-over point between callers and the writer thread: a bounded array behind a `Mutex`,
/// plus a semaphore the writer sleeps on. `record()` is one lock, one append and at most one signal.
final class RecordQueue: Sendable {
    struct FlushWaiter {
        var target: Int
        var failedBatchesAtStart: Int
        var continuation: CheckedContinuation<Result<Void, StoreError>, Never>
    }

    struct State: ~Copyable {
        var pending: [StoreRecord] = []
        var statistics = RecorderStatistics()
        /// Records the writer has finished with (committed, rejected or dropped after retries), in order.
        var processed = 0
        var writerSleeping = false
        /// The writer holds off a commit to gather more records; only `nudge()` (flush, close) cuts it short.
        var writerLingering = false
        /// The next commit must not linger (`commitSoon`), even if the writer has not reached the delay yet.
        var commitRequested = false
        /// When the writer last took records for a `commitSoon` it honoured (`DispatchTime` uptime, ns); 0 before.
        /// Commits at the end of the delay and `commitNow`s do not count: a lone request after them is honoured.
        var lastTakeAt: UInt64 = 0
        /// The pending take honours an interval-limited `commitSoon`.
        var intervalNudge = false
        var closing = false
        var closed = false
        /// Why the store never opened (background open): every flush reports it.
        var openError: StoreError?
        /// Why the store cannot be opened yet (the writer keeps trying): flushes fail at once meanwhile.
        var unavailable: StoreError?
        var flushWaiters: [FlushWaiter] = []
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let maxQueue: Int
    let minimumCommitIntervalNanoseconds: UInt64
    let state: Mutex<State>
    private let wakeUp = DispatchSemaphore(value: 0)

    init(maxQueue: Int, minimumCommitIntervalMs: Int = 0) {
        self.maxQueue = max(1, maxQueue)
        minimumCommitIntervalNanoseconds = UInt64(max(0, minimumCommitIntervalMs)) * 1_000_000
        var initial = State()
        initial.pending.reserveCapacity(min(self.maxQueue, 4_096))
        state = Mutex(initial)
    }

    /// Adds `record` unless the queue is full or closing. Never blocks beyond the lock.
    func append(_ record: StoreRecord) -> Bool {
        let (accepted, wake): (Bool, Bool) = state.withLock { state in
            guard !state.closing, state.pending.count < maxQueue else {
                state.statistics.dropped += 1
                state.statistics.droppedQueueFull += 1
                return (false, false)
            }
            state.pending.append(record)
            state.statistics.accepted += 1
            let wake = state.writerSleeping
            state.writerSleeping = false
            return (true, wake)
        }
        if wake { wakeUp.signal() }
        return accepted
    }

    /// Commits what is pending without the delay: wakes a lingering writer, and one that has not reached its delay
    /// yet will not linger. Unless it honoured another such request less than `minimumCommitInterval` ago: then the
    /// delay stands, so a steady stream of requests commits once per delay rather than once per request, while the
    /// first request after a pause (or after start-up's `commitNow`) commits at once.
    func commitSoon(ignoringInterval: Bool = false) {
        let wake = state.withLock { state in
            if !ignoringInterval, minimumCommitIntervalNanoseconds > 0, state.lastTakeAt > 0,
                DispatchTime.now().uptimeNanoseconds - state.lastTakeAt < minimumCommitIntervalNanoseconds
            {
                return false
            }
            state.commitRequested = true
            if !ignoringInterval { state.intervalNudge = true }
            let wake = state.writerLingering
            state.writerLingering = false
            return wake
        }
        if wake { wakeUp.signal() }
    }

    /// Wakes the writer if it sleeps or lingers.
    func nudge() {
        let wake = state.withLock { state in
            let wake = state.writerSleeping || state.writerLingering
            state.writerSleeping = false
            state.writerLingering = false
            return wake
        }
        if wake { wakeUp.signal() }
    }

    /// What the writer should do next.
    enum Work {
        case records
        case finish
    }

    /// Blocks the writer thread until there are records (swapped into `buffer`) or the queue is closing and empty.
    /// With a `commitDelay`, the first record starts the delay and the records that come during it are committed
    /// with it (one transaction instead of several); a flush or close ends the delay at once.
    func take(into buffer: inout [StoreRecord], commitDelay: DispatchTimeInterval? = nil) -> Work {
        var lingered = false
        while true {
            let (work, linger): (Work?, Bool) = state.withLock { state in
                state.writerLingering = false
                if !state.pending.isEmpty {
                    if commitDelay != nil, !lingered, !state.closing, state.flushWaiters.isEmpty, !state.commitRequested,
                        state.pending.count < maxQueue / 2
                    {
                        state.writerLingering = true
                        return (nil, true)
                    }
                    state.commitRequested = false
                    if state.intervalNudge {
                        state.intervalNudge = false
                        state.lastTakeAt = DispatchTime.now().uptimeNanoseconds
                    }
                    swap(&state.pending, &buffer)
                    return (.records, false)
                }
                if state.closing { return (.finish, false) }
                state.writerSleeping = true
                return (nil, false)
            }
            if let work { return work }
            if linger, let commitDelay {
                lingered = true
                // A nudge that races with the timeout leaves one extra signal: the next wait returns at once
                // and the loop finds what to do, so it costs a spin, never a lost wake-up.
                _ = wakeUp.wait(timeout: .now() + commitDelay)
            } else {
                wakeUp.wait()
            }
        }
    }

    /// Like `take`, without sleeping: nil when nothing is pending.
    func poll(into buffer: inout [StoreRecord]) -> Bool {
        state.withLock { state in
            guard !state.pending.isEmpty else { return false }
            swap(&state.pending, &buffer)
            return true
        }
    }

    /// The store cannot be opened for now (nil: it can again). Flushes waiting meanwhile fail at once.
    func markUnavailable(_ error: StoreError?) {
        let waiters: [FlushWaiter] = state.withLock { state in
            state.unavailable = error
            guard error != nil else { return [] }
            defer { state.flushWaiters = [] }
            return state.flushWaiters
        }
        if let error { for waiter in waiters { waiter.continuation.resume(returning: .failure(error)) } }
    }

    /// `count` records the writer held could not be kept (the hold limit, or closing): processed as dropped.
    func droppedHeld(_ count: Int, error: StoreError?) {
        finished(count) { statistics in
            statistics.dropped += count
            statistics.droppedFailedWrites += count
            if let error { statistics.lastError = error }
        }
    }

    /// Puts records the writer held back at the front of the queue (they were counted as accepted already).
    func prepend(_ records: [StoreRecord]) {
        guard !records.isEmpty else { return }
        state.withLock { $0.pending.insert(contentsOf: records, at: 0) }
    }

    /// Whether `close()` was asked for.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// Sleeps the writer for `milliseconds`, or until a flush or close nudges it (new records do not).
    func doze(milliseconds: Int) {
        state.withLock { $0.writerLingering = true }
        _ = wakeUp.wait(timeout: .now() + .milliseconds(milliseconds))
        state.withLock { $0.writerLingering = false }
    }

    /// Writer bookkeeping after a batch; resumes the flush waiters it satisfied.
    func finished(_ count: Int, update: (inout RecorderStatistics) -> Void) {
        let ready: [(FlushWaiter, Result<Void, StoreError>)] = state.withLock { state in
            state.processed += count
            update(&state.statistics)
            var ready: [(FlushWaiter, Result<Void, StoreError>)] = []
            state.flushWaiters.removeAll { waiter in
                guard waiter.target <= state.processed else { return false }
                if state.statistics.failedBatches > waiter.failedBatchesAtStart, let error = state.statistics.lastError {
                    ready.append((waiter, .failure(error)))
                } else {
                    ready.append((waiter, .success(())))
                }
                return true
            }
            return ready
        }
        for (waiter, result) in ready { waiter.continuation.resume(returning: result) }
    }

    func updateStatistics(_ update: (inout RecorderStatistics) -> Void) {
        state.withLock { update(&$0.statistics) }
    }

    var statistics: RecorderStatistics { state.withLock { $0.statistics } }

    /// Waits until every record accepted before the call is processed.
    func flush() async -> Result<Void, StoreError> {
        await withCheckedContinuation { continuation in
            let immediate: Result<Void, StoreError>? = state.withLock { state in
                if let error = state.openError ?? state.unavailable { return .failure(error) }
                if state.processed >= state.statistics.accepted { return .success(()) }
                if state.closed {
                    return .failure(StoreError(code: .closed, message: "the recorder closed before these records were written"))
                }
                state.flushWaiters.append(
                    FlushWaiter(
                        target: state.statistics.accepted, failedBatchesAtStart: state.statistics.failedBatches,
                        continuation: continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) } else { nudge() }
        }
    }

    /// Stops accepting records and waits until the writer has drained the queue and closed the store.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyClosed = state.withLock { state in
                if state.closed { return true }
                state.closing = true
                state.closeWaiters.append(continuation)
                return false
            }
            if alreadyClosed { continuation.resume() } else { nudge() }
        }
    }

    /// Stops accepting records without waiting (the Recorder was released without `close()`).
    func beginClosing() {
        state.withLock { $0.closing = true }
        nudge()
    }

    /// The store could not be opened: everything taken so far and everything later is dropped and counted,
    /// and whoever waits for a flush or close is answered.
    func openFailed(_ error: StoreError) {
        state.withLock { state in
            state.closing = true
            state.openError = error
            state.statistics.dropped += state.pending.count
            state.statistics.droppedFailedWrites += state.pending.count
            state.statistics.lastError = error
            state.processed += state.pending.count
            state.pending.removeAll()
        }
        didClose()
    }

    /// Called by the writer thread as its very last act.
    func didClose() {
        let (closeWaiters, flushWaiters, openError) = state.withLock { state in
            state.closed = true
            let waiters = (state.closeWaiters, state.flushWaiters, state.openError)
            state.closeWaiters = []
            state.flushWaiters = []
            return waiters
        }
        let error = openError ?? StoreError(code: .closed, message: "the recorder closed")
        for waiter in flushWaiters { waiter.continuation.resume(returning: .failure(error)) }
        for waiter in closeWaiters { waiter.resume() }
    }
}
