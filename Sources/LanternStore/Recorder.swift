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
        let connection = try StoreSchema.openForWriting(path: path, busyTimeoutMs: options.busyTimeoutMs)
        if let maxStoreBytes = options.maxStoreBytes {
            let pageSize = try connection.scalar("PRAGMA page_size").int64 ?? 4096
            try connection.execute("PRAGMA max_page_count = \(max(1, Int64(maxStoreBytes) / pageSize))")
        }
        queue = RecordQueue(maxQueue: options.maxQueue)
        let writer = try RecordWriter(connection: connection, queue: queue, options: options)
        try WriterThread.start(writer)
    }

    deinit { queue.beginClosing() }

    /// Hands `record` to the writer. Never blocks; returns false when the record was dropped (queue full or closed).
    @discardableResult
    public func record(_ record: StoreRecord) -> Bool { queue.append(record) }

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
    static func start(_ writer: RecordWriter) throws(StoreError) {
        // Ownership of `writer` (and its connection) moves to the new thread: nothing else keeps a reference,
        // which is why passing it as a raw pointer is safe without Sendable.
        let box = Unmanaged.passRetained(writer).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { raw in
            let writer = Unmanaged<RecordWriter>.fromOpaque(raw!).takeRetainedValue()
            writer.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<RecordWriter>.fromOpaque(box).release()
            throw StoreError(code: .other, message: "cannot start the store writer thread (pthread_create: \(result))")
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }
}
