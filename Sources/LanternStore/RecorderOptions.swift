extension Recorder {
    /// How the Recorder batches, bounds and retries.
    public struct Options: Sendable {
        /// Most records committed in one transaction.
        public var batchSize: Int = 1_000
        /// How long the writer waits after a record arrives before committing, so the records that follow
        /// share its transaction (fewer WAL writes and wake-ups); flush and close do not wait. 0 = commit at once.
        public var commitDelayMs: Int = 0
        /// `commitSoon()` is ignored when an earlier one was honoured less than this long ago: the commit delay then
        /// stands, so callers that ask after every unit of work (the collector, before each `next`) commit at most
        /// this often while work keeps coming, and at once when it comes after a pause. 0 = every one commits.
        public var minimumCommitIntervalMs: Int = 0
        /// Most records waiting for the writer; `record()` drops (and counts) beyond this.
        public var maxQueue: Int = 50_000
        /// How long one write waits for another connection's lock before it counts as a failed attempt.
        public var busyTimeoutMs: Int = 500
        /// Delays before each retry of a failed batch; after the last one the batch is dropped and counted.
        public var retryDelaysMs: [Int] = [10, 50, 200]
        /// Most rows kept in `log_records`; the oldest are trimmed after each batch that added logs.
        public var logRetention: Int = 100_000
        /// Cap on the store file size (via `PRAGMA max_page_count`), e.g. for Lambda's small `/tmp`; nil = no cap.
        public var maxStoreBytes: Int? = nil
        /// The size bound kept by pruning the oldest invocations (`StorePruner`); nil = the store grows freely.
        public var sizeBoundBytes: Int? = nil
        /// Most KiB of SQLite page cache the writer keeps (`PRAGMA cache_size`); nil = SQLite's 2,000 KiB.
        public var pageCacheKB: Int? = nil
        /// Records held while the store cannot be opened (background open); older ones are dropped and counted.
        public var holdWhileUnavailable: Int = 5_000
        /// First and longest wait between attempts to open an unavailable store.
        public var reopenDelaysMs: (first: Int, longest: Int) = (250, 5_000)
        /// Whether failures are also written as one line to stderr (the collector's log).
        public var logsToStandardError: Bool = true

        public init() {}
    }
}

/// What the Recorder has done so far.
public struct RecorderStatistics: Sendable, Equatable {
    /// Records taken by `record()`.
    public var accepted: Int = 0
    /// Records committed to the store.
    public var committed: Int = 0
    /// Records dropped: the queue was full, the recorder was closed, or their batch failed every retry.
    public var dropped: Int = 0
    /// Of `dropped`: records refused because the queue was full or the recorder closed.
    public var droppedQueueFull: Int = 0
    /// Of `dropped`: records whose batch failed every retry.
    public var droppedFailedWrites: Int = 0
    /// Records SQLite refused one by one (a CHECK or NOT NULL rule); counted in `dropped` too.
    public var rejected: Int = 0
    /// Transactions committed.
    public var batches: Int = 0
    /// Write attempts that failed (each retry counts).
    public var failedAttempts: Int = 0
    /// Batches dropped after their last retry.
    public var failedBatches: Int = 0
    /// The latest failure, if any.
    public var lastError: StoreError? = nil
    /// The revision stamped on the latest committed batch.
    public var revision: Int64 = 0
    /// Invocations the size bound pruned, and how many prunes that took.
    public var prunedInvocations: Int = 0
    public var prunes: Int = 0

    public init() {}
}
