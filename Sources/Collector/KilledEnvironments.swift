// An execution environment can die before its collector records how an invocation ended: a runtime crash under
// AWS's RIE (no Telemetry API: the collector still waits for the end and is SIGKILLed 2 s into the reset), a
// SHUTDOWN deadline overrun, the sandbox running out of memory. The store outlives it (Lambda's /tmp, a local file),
// so the next collector on the same store closes out what was left: the invocation gets its end, its environment
// the reason `killed`, and the proxy transaction its agent never sent is made now and forwarded — late, not lost.

import LanternStore
import Logging
import NIOCore

/// Closes out the invocations earlier environments left unended in the store.
enum KilledEnvironments {
    static func closeOut(
        storePath: String, recorder: Recorder, forwarder: (any EventForwarding)?, environmentID: String, logger: Logger
    ) async {
        // The writer thread opens (and migrates) the store; once a flush succeeds the file is there to read.
        guard (try? await recorder.flush()) != nil else { return }
        let unended: [UnendedInvocation]
        do {
            unended = try History(path: storePath).unendedInvocations(excludingEnvironment: environmentID)
        } catch {
            logger.debug("cannot look for killed environments in \(storePath): \(error)")
            return
        }
        guard !unended.isEmpty else { return }
        let now = epochMicros()
        var proxies = 0
        var killed = Set<String>()
        for invocation in unended {
            var fact = InvocationFact(requestID: invocation.requestID)
            fact.flushReason = .shutdown
            if invocation.status == nil { fact.status = .failure }
            recorder.record(.invocation(fact))
            if let environment = invocation.environmentID, !invocation.environmentEnded { killed.insert(environment) }
            guard let template = invocation.registration, let transactionID = invocation.transactionID else { continue }
            // As the book does: `failure` unless runtimeDone said success, which keeps the agent's own outcome.
            let result = invocation.status ?? InvocationStatus.failure.rawValue
            let outcome: String? = result == InvocationStatus.success.rawValue ? nil : "failure"
            let end = invocation.runtimeDoneAt ?? min(now, invocation.deadlineAt ?? now)
            let durationMs = Double(max(0, end - invocation.invokedAt)) / 1000
            recorder.record(.proxy(ProxyTransactionRecord(
                requestID: invocation.requestID, environmentID: invocation.environmentID, transactionID: transactionID,
                traceID: invocation.traceID, result: result, outcome: outcome, durationMs: durationMs, trigger: .shutdown,
                createdAt: now)))
            await forwarder?.forwardProxy(ProxyTransaction(
                registration: TransactionRegistration(
                    requestID: invocation.requestID, transactionID: transactionID, traceID: invocation.traceID,
                    transaction: ByteBuffer(string: template), receivedAt: invocation.invokedAt),
                result: result, outcome: outcome, durationMs: durationMs, trigger: .shutdown))
            proxies += 1
        }
        for environment in killed {
            var fact = EnvironmentFact(id: environment)
            fact.shutdownReason = "killed"
            recorder.record(.environment(fact))
        }
        let detail = "\(unended.count) unended invocations of \(killed.count) killed environments closed out, \(proxies) proxy transactions made"
        recorder.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: now, kind: "closed_out", name: "killed_environments", detail: detail)))
        logger.notice("\(detail)")
    }
}
