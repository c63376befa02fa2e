#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The store's single writer. Callers hand it records with `record()` (never blocks); a dedicated writer thread
/// commits them in batched `BEGIN IMMEDIATE` transactions, retries failures, and counts what it had to drop.
public final class Recorder: Sendable {
    private let queue: RecordQueue
    /// The store file.
    public let path: String

    /// Opens (or creates) the store at `path` and starts the writer thread. The directory must exist.
    /// Throws for an unusable path, a foreign SQLite file, or a store with a newer schema (left unchanged).
    public init(path: String, options: Options = .init()) throws(StoreError) {
        self.path = path
        let connection = try Self.open(path: path, options: options)
        queue = RecordQueue(maxQueue: options.maxQueue, minimumCommitIntervalMs: options.minimumCommitIntervalMs)
        let writer = try RecordWriter(connection: connection, queue: queue, options: options)
        try WriterThread.start { writer.run() }
    }

    /// Starts the writer thread, which opens (or creates) the store itself: the caller does not wait for
    /// the file (creating a store costs several fsyncs, ~10 ms on a cold start) and `record()` works at once.
    /// When the store cannot be opened, `onFailure` gets the error once (on the writer thread); the writer tries
    /// again with backoff, holding the newest `holdWhileUnavailable` records meanwhile (older ones are dropped and
    /// counted), and `onRecovery` hears when it worked. A corrupt file is moved aside and a new store made. Only a
    /// store that must be left alone (another application's database, a newer schema) ends recording for good.
    public init(
        openingInBackground path: String, options: Options = .init(),
        onFailure: @escaping @Sendable (StoreError) -> Void,
        onRecovery: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(StoreError) {
        self.path = path
        let queue = RecordQueue(maxQueue: options.maxQueue, minimumCommitIntervalMs: options.minimumCommitIntervalMs)
        self.queue = queue
        try WriterThread.start {
            let opening = StoreOpening(path: path, options: options, queue: queue, onFailure: onFailure, onRecovery: onRecovery)
            guard let connection = opening.connectionWhenPossible(open: Self.open) else { return }
            let writer: RecordWriter
            do throws(StoreError) {
                writer = try RecordWriter(connection: connection, queue: queue, options: options)
            } catch {
                // Reported before the waiters are answered, so whoever sees `flush()` fail also sees the report.
                onFailure(error)
                queue.openFailed(error)
                return
            }
            writer.run()
        }
    }

    static func open(path: String, options: Options) throws(StoreError) -> Connection {
        let connection = try StoreSchema.openForWriting(path: path, busyTimeoutMs: options.busyTimeoutMs)
        // Debian builds SQLite with SECURE_DELETE on (upstream's default is off): every index entry an upsert moves
        // and every page a B-tree rebalances was zeroed, 4% of the collector's instructions (docs/layer.md). The
        // store's rows are not secrets kept from the file's owner, so freed space is left as it is.
        try connection.execute("PRAGMA secure_delete = OFF")
        // SQLite evaluates a CHECK `x IN ('a', 'b', 'c')` (three or more constants) by building an ephemeral index on
        // every write: a tenth of the collector's instructions per invocation (docs/layer.md). Every checked column
        // this writer fills is a Swift enum, except a proxy's `outcome`, which `RecordWriter` checks itself
        // (`StoreRecord.checkViolation`); other writers (`lantern import`, the sqlite3 shell) keep SQLite's checks.
        try connection.execute("PRAGMA ignore_check_constraints = ON")
        if let maxStoreBytes = options.maxStoreBytes {
            let pageSize = try connection.scalar("PRAGMA page_size").int64 ?? 4096
            try connection.execute("PRAGMA max_page_count = \(max(1, Int64(maxStoreBytes) / pageSize))")
        }
        if let bound = options.sizeBoundBytes {
            let pageSize = Int(try connection.scalar("PRAGMA page_size").int64 ?? 4096)
            let wal = StorePruner.walSettings(boundBytes: bound, pageSize: pageSize)
            _ = try connection.scalar("PRAGMA journal_size_limit = \(wal.journalSizeLimit)")
            _ = try connection.scalar("PRAGMA wal_autocheckpoint = \(wal.autocheckpointPages)")
        }
        if let pageCacheKB = options.pageCacheKB {
            try connection.execute("PRAGMA cache_size = -\(max(1, pageCacheKB))")
        }
        return connection
    }

    deinit { queue.beginClosing() }

    /// Hands `record` to the writer. Never blocks; returns false when the record was dropped (queue full or closed).
    @discardableResult
    public func record(_ record: StoreRecord) -> Bool { queue.append(record) }

    /// Ends the commit delay now: the writer commits what it holds at once, unless an earlier `commitSoon` was
    /// honoured less than `Options.minimumCommitIntervalMs` ago (then the delay stands). Does not wait.
    public func commitSoon() { queue.commitSoon() }

    /// Ends the commit delay now, whenever the last commit was: for a moment after which nothing may come for long
    /// (the collector's first `next`, when the sandbox may freeze until the first invocation). Does not wait.
    public func commitNow() { queue.commitSoon(ignoringInterval: true) }

    /// Returns once everything accepted before the call is committed; throws the latest error if some of it was
    /// dropped after failed retries.
    public func flush() async throws(StoreError) {
        try await queue.flush().get()
    }

    /// Stops accepting records, commits what was accepted, checkpoints the WAL (TRUNCATE) and closes. Idempotent.
    public func close() async { await queue.close() }

    /// Counts of accepted, committed and dropped records, and the latest error.
    public var statistics: RecorderStatistics { queue.statistics }
}

/// Starts the dedicated writer thread (a plain pthread: Dispatch's pool is for short work, this loop lives long).
enum WriterThread {
    /// Runs `body` on a new detached thread. Ownership of what `body` captures (the writer and its
    /// connection) moves to that thread: nothing else keeps a reference, which is why passing the closure
    /// as a raw pointer is safe.
    static func start(_ body: sending @escaping () -> Void) throws(StoreError) {
        final class Body {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw StoreError(code: .other, message: "cannot start the store writer thread (pthread_create: \(result))")
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }
}
