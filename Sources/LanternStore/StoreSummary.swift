/// Nearest-rank percentiles of one measure.
public struct Percentiles: Sendable, Equatable {
    /// How many values were measured.
    public var count: Int
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?

    /// Percentiles of `values` by the nearest-rank method (the smallest value with at least p% at or below it).
    public init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        func rank(_ p: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            let index = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        p50 = rank(50)
        p95 = rank(95)
        p99 = rank(99)
        max = sorted.last
    }
}

/// The figures of `lantern query stats`.
public struct StoreSummary: Sendable, Equatable {
    public var invocations = 0
    /// Invocation count per status (`nil` key: not finished / unknown), sorted by count.
    public var byStatus: [(key: String?, count: Int)] = []
    public var byFlushReason: [(key: String?, count: Int)] = []
    public var shutdowns = 0
    public var byShutdownReason: [(key: String?, count: Int)] = []
    public var duration = Percentiles([])
    public var billedDuration = Percentiles([])
    /// Released at minus runtimeDone at, in milliseconds: the time the collector held the environment after the function.
    public var postRuntime = Percentiles([])
    public var coldStarts = 0
    public var initDuration = Percentiles([])
    public var proxies = 0
    public var proxiesByTrigger: [(key: String?, count: Int)] = []
    /// Flushes with outcome `dropped`, and the events in them.
    public var droppedFlushes = 0
    public var droppedEvents = 0
    /// `records_dropped` lifecycle events written by the Recorder.
    public var recordsDroppedEvents = 0
    /// Records the Recorder reports it dropped (the sum over `records_dropped` events).
    public var recordsDropped = 0
    /// Prunes the size bound made (`store_prunes`), the invocations they removed, and when the last one ran.
    /// Not limited by `since`: pruned rows are gone, so their count is the only trace of them.
    public var prunes = 0
    public var prunedInvocations = 0
    public var lastPrunedAt: Int64?
    /// Managed Instances: invocations in flight when each started (itself included); empty on classic Lambda.
    public var inFlight = Percentiles([])

    public static func == (lhs: StoreSummary, rhs: StoreSummary) -> Bool {
        func same(_ a: [(key: String?, count: Int)], _ b: [(key: String?, count: Int)]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.count == $1.count }
        }
        return lhs.invocations == rhs.invocations && same(lhs.byStatus, rhs.byStatus)
            && same(lhs.byFlushReason, rhs.byFlushReason) && lhs.shutdowns == rhs.shutdowns
            && same(lhs.byShutdownReason, rhs.byShutdownReason) && lhs.duration == rhs.duration
            && lhs.billedDuration == rhs.billedDuration && lhs.postRuntime == rhs.postRuntime
            && lhs.coldStarts == rhs.coldStarts && lhs.initDuration == rhs.initDuration && lhs.proxies == rhs.proxies
            && same(lhs.proxiesByTrigger, rhs.proxiesByTrigger) && lhs.droppedFlushes == rhs.droppedFlushes
            && lhs.droppedEvents == rhs.droppedEvents && lhs.recordsDroppedEvents == rhs.recordsDroppedEvents
            && lhs.prunes == rhs.prunes && lhs.prunedInvocations == rhs.prunedInvocations
            && lhs.lastPrunedAt == rhs.lastPrunedAt && lhs.inFlight == rhs.inFlight
            && lhs.recordsDropped == rhs.recordsDropped
    }
}

extension History {
    /// Summary figures over rows at or after `since` (epoch µs; nil = all), read in one snapshot; in a fleet store,
    /// optionally of one environment and/or one function's environments (the size bound's prunes stay store-wide).
    public func summary(
        since: Int64? = nil, environmentID: String? = nil, functionName: String? = nil
    ) throws(StoreError) -> StoreSummary {
        try withConnection { connection throws(StoreError) in
            try connection.execute("BEGIN")
            do throws(StoreError) {
                let summary = try Self.summarize(
                    connection, since: since, scope: Scope(environmentID: environmentID, functionName: functionName))
                try connection.execute("COMMIT")
                return summary
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Which environments the figures cover: all (no condition at all, so the plans stay as they were), one, or a
    /// function's. `?2` and `?3` in the statements.
    struct Scope {
        var environmentID: String?
        var functionName: String?

        /// Appended after `WHERE <time> >= ?1` of every statement over a table with `environment_id`.
        var condition: String {
            guard environmentID != nil || functionName != nil else { return "" }
            return " AND environment_id IN (SELECT id FROM environments WHERE (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR function_name = ?3))"
        }

        var bindings: [SQLValue] {
            guard environmentID != nil || functionName != nil else { return [] }
            return [environmentID.map(SQLValue.text) ?? .null, functionName.map(SQLValue.text) ?? .null]
        }
    }

    private static func summarize(_ connection: Connection, since: Int64?, scope: Scope) throws(StoreError) -> StoreSummary {
        let sinceValue: SQLValue = since.map(SQLValue.integer) ?? .integer(Int64.min)
        let bindings = [sinceValue] + scope.bindings
        // Every statement's WHERE starts with `<time column> >= ?1`; the scope follows it.
        let inScope = scope.condition
        func counts(_ table: String, _ column: String, _ timeColumn: String) throws(StoreError) -> [(key: String?, count: Int)] {
            try connection.rows(
                "SELECT \(column), count(*) AS n FROM \(table) WHERE \(timeColumn) >= ?1\(inScope) GROUP BY \(column) ORDER BY n DESC, \(column)",
                bindings
            ).map { (key: $0[0].string, count: Int($0[1].int64 ?? 0)) }
        }
        func values(_ sql: String) throws(StoreError) -> [Double] {
            try connection.rows(sql, bindings).compactMap { $0[0].double }
        }
        func total(_ sql: String) throws(StoreError) -> Int { Int(try connection.scalar(sql, bindings).int64 ?? 0) }

        var summary = StoreSummary()
        summary.invocations = try total("SELECT count(*) FROM invocations WHERE invoked_at >= ?1\(inScope)")
        summary.byStatus = try counts("invocations", "status", "invoked_at")
        summary.byFlushReason = try counts("invocations", "flush_reason", "invoked_at")
        summary.shutdowns = try total("SELECT count(*) FROM shutdowns WHERE received_at >= ?1\(inScope)")
        summary.byShutdownReason = try counts("shutdowns", "reason", "received_at")
        summary.duration = Percentiles(
            try values("SELECT duration_ms FROM invocations WHERE invoked_at >= ?1\(inScope) AND duration_ms IS NOT NULL"))
        summary.billedDuration = Percentiles(
            try values("SELECT billed_duration_ms FROM invocations WHERE invoked_at >= ?1\(inScope) AND billed_duration_ms IS NOT NULL"))
        summary.postRuntime = Percentiles(
            try values("""
                SELECT (released_at - runtime_done_at) / 1000.0 FROM invocations
                WHERE invoked_at >= ?1\(inScope) AND released_at IS NOT NULL AND runtime_done_at IS NOT NULL
                """))
        summary.inFlight = Percentiles(
            try values("SELECT in_flight FROM invocations WHERE invoked_at >= ?1\(inScope) AND in_flight IS NOT NULL"))
        summary.coldStarts = try total("SELECT count(*) FROM invocations WHERE invoked_at >= ?1\(inScope) AND cold_start = 1")
        summary.initDuration = Percentiles(
            try values("""
                SELECT init_duration_ms FROM invocations
                WHERE invoked_at >= ?1\(inScope) AND cold_start = 1 AND init_duration_ms IS NOT NULL
                """))
        summary.proxies = try total("SELECT count(*) FROM proxy_transactions WHERE created_at >= ?1\(inScope)")
        summary.proxiesByTrigger = try counts("proxy_transactions", "trigger", "created_at")
        let dropped = try connection.rows(
            "SELECT count(*), coalesce(sum(events), 0) FROM flushes WHERE started_at >= ?1\(inScope) AND outcome = 'dropped'",
            bindings)
        summary.droppedFlushes = Int(dropped.first?[0].int64 ?? 0)
        summary.droppedEvents = Int(dropped.first?[1].int64 ?? 0)
        // The detail of a records_dropped event starts with the number of records ("12 records dropped ...").
        let recorderDrops = try connection.rows(
            """
            SELECT count(*), coalesce(sum(CAST(detail AS INTEGER)), 0) FROM lifecycle_events
            WHERE at >= ?1\(inScope) AND kind = 'records_dropped'
            """, bindings)
        summary.recordsDroppedEvents = Int(recorderDrops.first?[0].int64 ?? 0)
        summary.recordsDropped = Int(recorderDrops.first?[1].int64 ?? 0)
        let prunes = try connection.rows("SELECT count(*), coalesce(sum(invocations), 0), max(at) FROM store_prunes")
        summary.prunes = Int(prunes.first?[0].int64 ?? 0)
        summary.prunedInvocations = Int(prunes.first?[1].int64 ?? 0)
        summary.lastPrunedAt = prunes.first?[2].int64
        return summary
    }
}
