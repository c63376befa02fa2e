// The Forwarder as the Lambda side's outlet to the APM Server: proxies, report metricsets and log
// lines become intake lines (built by APMEvents) queued with the request they belong to.

import LanternStore
import NIOCore

extension Forwarder: EventForwarding {
    public func forwardProxy(_ proxy: ProxyTransaction) {
        if let metadata = proxy.registration.metadata { noteMetadata(metadata) }
        enqueue(event: APMEvents.proxyTransaction(
            from: proxy.registration, result: proxy.result, outcome: proxy.outcome, durationMs: proxy.durationMs),
            requestID: proxy.registration.requestID, urgent: true)
    }

    public func forwardReport(_ report: InvocationReport) {
        enqueue(event: APMEvents.metricset(
            requestID: report.requestID, timestampMicros: report.at, durationMs: report.durationMs,
            billedDurationMs: Double(report.billedDurationMs ?? Int(report.durationMs.rounded(.up))),
            memorySizeMB: report.memorySizeMB ?? configuration.memoryMB ?? 0,
            maxMemoryUsedMB: report.maxMemoryUsedMB ?? 0, initDurationMs: report.initDurationMs,
            timeoutMs: report.timeoutMs.map(Double.init), functionARN: report.functionARN,
            functionName: configuration.functionName, functionVersion: configuration.functionVersion),
            requestID: report.requestID)
    }

    public func forwardLogs(_ lines: [FunctionLogLine]) {
        for line in lines { forwardLog(line) }
    }

    public func forwardLog(_ line: FunctionLogLine) {
        enqueue(event: APMEvents.logEvent(
            message: line.message, timestampMicros: line.at, requestID: line.requestID, functionARN: line.functionARN,
            functionName: configuration.functionName, functionVersion: configuration.functionVersion),
            requestID: line.requestID)
    }
}

extension Forwarder {
    /// The environment-wide fields of the lifecycle events.
    private var lifecycleEnvironment: LifecycleEnvironment {
        LifecycleEnvironment(
            environmentID: environmentID, functionName: configuration.functionName,
            functionVersion: configuration.functionVersion, initializationType: configuration.initializationType,
            maxConcurrency: configuration.maxConcurrency)
    }

    /// Not urgent: like a report metricset it rides with the next send and never holds an invocation back.
    public func forwardInvocationFacts(_ facts: InvocationFacts) {
        enqueue(event: APMEvents.invocationLifecycle(facts, environment: lifecycleEnvironment), requestID: facts.requestID)
    }

    public func forwardShutdownFacts(_ shutdown: ShutdownRecord) {
        enqueue(event: APMEvents.shutdownLifecycle(shutdown, environment: lifecycleEnvironment), requestID: nil)
    }
}
