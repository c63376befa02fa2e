// What both books do when an invocation's agent never sent its transaction: make the proxy (store record and
// APM event, from the agent's registered partial transaction) and remember it until a send that carried it
// succeeds, so its `forwarded_at` can be stamped. Bounded: an environment may live for days.

import LanternStore

/// The proxies a book made, and the newest of them not yet known to have reached the APM Server.
struct ProxyLedger {
    /// Proxies remembered for `forwarded_at`; an older one keeps an empty `forwarded_at` in the store (the APM
    /// Server down for long, or no server at all).
    static let unforwardedCapacity = 256

    private(set) var unforwarded: [ProxyTransactionRecord] = []

    /// A proxy for `requestID`: the store record and the event to forward. As Elastic: outcome `failure` unless
    /// the result is success, which keeps the agent's own outcome.
    mutating func make(
        requestID: String, environmentID: String, registration: TransactionRegistration, result: String,
        durationMs: Double, trigger: ProxyTrigger
    ) -> (record: ProxyTransactionRecord, event: ProxyTransaction) {
        let outcome: String? = result == InvocationStatus.success.rawValue ? nil : "failure"
        let record = ProxyTransactionRecord(
            requestID: requestID, environmentID: environmentID, transactionID: registration.transactionID,
            traceID: registration.traceID, result: result, outcome: outcome, durationMs: durationMs,
            trigger: trigger, createdAt: epochMicros())
        unforwarded.append(record)
        if unforwarded.count > Self.unforwardedCapacity { unforwarded.removeFirst(unforwarded.count - Self.unforwardedCapacity) }
        let event = ProxyTransaction(
            registration: registration, result: result, outcome: outcome, durationMs: durationMs, trigger: trigger)
        return (record, event)
    }

    /// A send that included every proxy made so far succeeded: their records, stamped `forwardedAt = at`.
    mutating func forwarded(at: Int64) -> [ProxyTransactionRecord] {
        defer { unforwarded.removeAll() }
        return unforwarded.map { record in
            var record = record
            record.forwardedAt = at
            return record
        }
    }
}
