import LanternStore

/// The store reads behind the Managed Instances figures. Each goes through an index in time order (or through
/// `flush_reason`'s), so a classic store of a million invocations pays nothing for them and an LMI store
/// pays for the rows it shows.
extension StoreTail {
    /// Environments running several invocations at once. Small table (one row per environment).
    static let managedEnvironmentCondition =
        "(initialization_type = '\(EnvironmentSummary.managedInstancesType)' OR max_concurrency IS NOT NULL)"

    /// How long the strip in the header looks back from the newest invocation, and into how many buckets.
    static let stripWindowMicros: Int64 = 60_000_000
    static let stripBuckets = 30
    /// At most this many invocations are read for the strip (the newest; more than a minute of any real load).
    static let stripRowLimit = 20_000

    /// Invocations of live Managed Instances environments that started and have not ended (no report yet).
    /// The unary `+` keeps SQLite on `(flush_reason, invoked_at)`: the open invocations are few, while an
    /// environment's own index would walk every invocation it ever ran.
    func inFlightNow() throws(DashboardError) -> Int {
        try database.first(Self.inFlightNowSQL) { Int($0.int(0)) } ?? 0
    }

    static let inFlightNowSQL = """
        SELECT count(*) FROM invocations WHERE flush_reason IS NULL AND +environment_id IN
        (SELECT id FROM environments WHERE \(managedEnvironmentCondition) AND shutdown_at IS NULL)
        """

    /// Whether the store holds any Managed Instances environment or invocation (`report` is indexed).
    func hasManagedInstances() throws(DashboardError) -> Bool {
        try database.first(
            """
            SELECT EXISTS (SELECT 1 FROM environments WHERE \(Self.managedEnvironmentCondition))
            OR EXISTS (SELECT 1 FROM invocations WHERE flush_reason = 'report')
            """
        ) { $0.int(0) == 1 } ?? false
    }

    /// The peak in flight and the recent strip; nil for a store with no Managed Instances. The peak is one seek in
    /// the partial index `invocations_in_flight`; it runs with the other totals, off the UI thread.
    func concurrencyTotals() throws(DashboardError) -> ConcurrencyTotals? {
        guard try hasManagedInstances() else { return nil }
        let peak = try database.first("SELECT coalesce(max(in_flight), 0) FROM invocations WHERE in_flight IS NOT NULL") { Int($0.int(0)) } ?? 0
        guard let newest = try database.first(
            "SELECT max(invoked_at) FROM invocations WHERE invoked_at IS NOT NULL", [], { $0.optionalInt(0) }) ?? nil
        else { return ConcurrencyTotals(peak: peak, recent: [], bucketMicros: 0) }
        // Twice the window back, so invocations that started before the window and ran into it are counted.
        let intervals = try database.query(
            """
            SELECT invoked_at, duration_ms, flush_reason, in_flight FROM invocations
            WHERE invoked_at >= ? AND in_flight IS NOT NULL ORDER BY invoked_at DESC LIMIT \(Self.stripRowLimit)
            """, [.integer(newest - 2 * Self.stripWindowMicros)]
        ) { row -> InvocationInterval in
            let start = row.int(0)
            return InvocationInterval(start: start, end: Self.end(start: start, durationMs: row.double(1),
                                                                   flushReason: row.text(2)),
                                      inFlight: row.optionalInteger(3))
        }
        // The strip ends at the last thing that happened: the newest start or a later end.
        let to = intervals.reduce(newest) { max($0, $1.end ?? $1.start) } + 1
        let from = to - Self.stripWindowMicros
        return ConcurrencyTotals(
            peak: peak, recent: ConcurrencyStrip.buckets(intervals, from: from, to: to, count: Self.stripBuckets),
            bucketMicros: Self.stripWindowMicros / Int64(Self.stripBuckets))
    }

    /// When an invocation ended: start plus the report's duration. Without a duration, an ended one (shut
    /// down before its report) ended at its start as far as overlap goes; a running one has no end yet.
    static func end(start: Int64, durationMs: Double?, flushReason: String?) -> Int64? {
        if let durationMs { return start + Int64((durationMs * 1000).rounded()) }
        return flushReason == nil ? nil : start
    }

    /// The invocations of the same environment that ran at the same time as `detail`, the first `limit` by
    /// start, and how many there were. Looks back one timeout (the longest any of them can run; 15 minutes
    /// when unknown) through `(environment_id, invoked_at)`.
    func overlaps(of detail: InvocationDetail, limit: Int = 6) throws(DashboardError)
        -> (shown: [OverlappingInvocation], count: Int)
    {
        let row = detail.row
        guard let environment = detail.environmentID, let start = row.invokedAt else { return ([], 0) }
        let end = StoreTail.end(start: start, durationMs: row.durationMs, flushReason: row.flushReason)
        let lookback = Int64(row.timeoutMs ?? 900_000) * 1000 + 1_000_000
        let candidates = try database.query(
            """
            SELECT request_id, status, invoked_at, duration_ms, flush_reason, in_flight FROM invocations
            WHERE environment_id = ? AND invoked_at >= ? AND invoked_at <= ? AND request_id <> ?
            ORDER BY invoked_at, rowid
            """,
            [.text(environment), .integer(start - lookback), .integer(end ?? Int64.max), .text(row.requestID)]
        ) { r -> (String, String?, Int64, Int64?, Int?) in
            let otherStart = r.int(2)
            return (r.text(0) ?? "", r.text(1), otherStart,
                    Self.end(start: otherStart, durationMs: r.double(3), flushReason: r.text(4)), r.optionalInteger(5))
        }
        var shown: [OverlappingInvocation] = []
        var count = 0
        for (id, status, otherStart, otherEnd, inFlight) in candidates {
            // Overlapping: it started before this one ended and ended after this one started (or still runs).
            if let end, otherStart >= end, otherStart != start { continue }
            if let otherEnd, otherEnd <= start, otherStart != start { continue }
            count += 1
            guard shown.count < limit else { continue }
            shown.append(OverlappingInvocation(
                requestID: id, status: status, startOffsetMs: Double(otherStart - start) / 1000,
                endOffsetMs: otherEnd.map { Double($0 - start) / 1000 }, inFlight: inFlight))
        }
        return (shown, count)
    }

    /// The environment's maximum concurrency (a primary-key lookup).
    func maxConcurrency(environmentID: String) throws(DashboardError) -> Int? {
        try database.first("SELECT max_concurrency FROM environments WHERE id = ?", [.text(environmentID)]) {
            $0.optionalInteger(0)
        } ?? nil
    }
}
