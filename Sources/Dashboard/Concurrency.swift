/// Lambda Managed Instances run several invocations at once in one environment. These are the figures the
/// dashboard shows about that: how many were in flight over time, and which ran alongside a given invocation.

/// Store-wide concurrency for the header (counted off the UI thread with the other totals).
public struct ConcurrencyTotals: Sendable, Equatable {
    /// The most invocations in flight at once: the largest `in_flight` any invocation started with.
    public var peak: Int
    /// How many were in flight over the recent window, oldest bucket first: the most at once in each bucket.
    public var recent: [Int]
    /// The length of one bucket of `recent`, in microseconds.
    public var bucketMicros: Int64

    public init(peak: Int, recent: [Int], bucketMicros: Int64) {
        self.peak = peak
        self.recent = recent
        self.bucketMicros = bucketMicros
    }

    /// The whole window of `recent`, in seconds.
    public var windowSeconds: Int { Int(bucketMicros * Int64(recent.count) / 1_000_000) }
}

/// An invocation that ran at the same time as the one in the detail view, placed relative to its start.
public struct OverlappingInvocation: Sendable, Equatable {
    public var requestID: String
    public var status: String?
    /// When it started, in milliseconds after the start of the invocation shown (negative: before it).
    public var startOffsetMs: Double
    /// When it ended, likewise; nil while it runs (or when its end is unknown).
    public var endOffsetMs: Double?
    /// How many were in flight when it started, itself included.
    public var inFlight: Int?
}

/// One invocation as an interval on the time line.
struct InvocationInterval: Sendable, Equatable {
    var start: Int64
    /// Nil while it runs (no report yet).
    var end: Int64?
    var inFlight: Int?
}

/// Turns invocation intervals into "in flight" per time bucket.
enum ConcurrencyStrip {
    /// The most invocations in flight at once during each of `count` equal buckets of `from..<to`.
    /// The sweep over the intervals read is exact for them; invocations that started before the intervals
    /// read still count through the `in_flight` their later neighbours started with (the count only rises at
    /// a start, so a bucket's peak is at a start inside it or at its beginning).
    static func buckets(_ intervals: [InvocationInterval], from: Int64, to: Int64, count: Int) -> [Int] {
        guard count > 0, to > from else { return [] }
        let width = max(1, (to - from + Int64(count) - 1) / Int64(count))
        // +1 at each start, -1 at each end; at the same instant an end comes first (touching is not overlapping).
        var events: [(at: Int64, delta: Int)] = []
        events.reserveCapacity(intervals.count * 2)
        for interval in intervals {
            if let end = interval.end, end <= from { continue }
            if interval.start >= to { continue }
            events.append((max(interval.start, from), 1))
            if let end = interval.end, end < to { events.append((end, -1)) }
        }
        events.sort { $0.at != $1.at ? $0.at < $1.at : $0.delta < $1.delta }
        var result = [Int](repeating: 0, count: count)
        var current = 0
        var next = 0
        for bucket in 0..<count {
            let end = from + width * Int64(bucket + 1)
            var peak = current
            while next < events.count, events[next].at < end {
                current += events[next].delta
                peak = max(peak, current)
                next += 1
            }
            result[bucket] = peak
        }
        for interval in intervals where interval.start >= from && interval.start < to {
            let bucket = Int((interval.start - from) / width)
            if let inFlight = interval.inFlight, bucket < count { result[bucket] = max(result[bucket], inFlight) }
        }
        return result
    }
}
