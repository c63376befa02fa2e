/// An invocation an earlier execution environment began and never ended: the environment was killed (a crash
/// under RIE, a SHUTDOWN overrun, out of memory) before its collector could record the end or make the proxy.
public struct UnendedInvocation: Sendable, Equatable {
    public var requestID: String
    public var environmentID: String?
    public var invokedAt: Int64
    public var deadlineAt: Int64?
    public var runtimeDoneAt: Int64?
    public var status: String?
    public var transactionID: String?
    public var traceID: String?
    /// The agent's partial transaction line (schema v5), the template of its proxy.
    public var registration: String?
    /// Whether the invocation's environment has a shutdown reason already (then it is left as it is).
    public var environmentEnded: Bool
}

extension History {
    /// Invocations of environments other than `environmentID` that were invoked but never ended (no flush reason,
    /// no release) and have no proxy yet, oldest first, at most `limit`.
    public func unendedInvocations(excludingEnvironment environmentID: String, limit: Int = 100) throws(StoreError) -> [UnendedInvocation] {
        let rows = try connection.rows(
            """
            SELECT i.request_id, i.environment_id, i.invoked_at, i.deadline_at, i.runtime_done_at, i.status,
                   i.transaction_id, i.trace_id, i.registration, e.shutdown_reason IS NOT NULL
            FROM invocations i LEFT JOIN environments e ON e.id = i.environment_id
            WHERE i.environment_id IS NOT ?1 AND i.invoked_at IS NOT NULL AND i.flush_reason IS NULL
              AND i.released_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM proxy_transactions p WHERE p.request_id = i.request_id)
            ORDER BY i.invoked_at LIMIT ?2
            """, [.text(environmentID), .integer(Int64(limit))])
        return rows.compactMap { row in
            guard case .text(let requestID) = row[0], let invokedAt = row[2].int64 else { return nil }
            return UnendedInvocation(
                requestID: requestID, environmentID: row[1].string, invokedAt: invokedAt, deadlineAt: row[3].int64,
                runtimeDoneAt: row[4].int64, status: row[5].string, transactionID: row[6].string, traceID: row[7].string,
                registration: row[8].string, environmentEnded: row[9].int64 == 1)
        }
    }
}
