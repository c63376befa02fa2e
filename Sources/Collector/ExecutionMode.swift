// How Lambda runs this execution environment, decided once at start-up. Everything that differs between classic
// Lambda and Lambda Managed Instances (registration, telemetry schema, book and loop) is picked from it in
// `CollectorProcess`, in one place; nothing below asks again.

import LambdaWire

/// Classic (on-demand, provisioned, SnapStart: one invocation at a time, frozen between them) or Managed Instances
/// (several invocations at once, never frozen, SHUTDOWN-only extensions, Telemetry schema 2025-01-29).
public enum ExecutionMode: Sendable, Equatable {
    case classic
    /// `maxConcurrency` from `AWS_LAMBDA_MAX_CONCURRENCY` when the platform sets it.
    case managedInstances(maxConcurrency: Int?)

    /// `AWS_LAMBDA_INITIALIZATION_TYPE` on Managed Instances.
    public static let managedInstancesInitializationType = "lambda-managed-instances"

    /// The mode the environment's variables describe.
    public init(initializationType: String?, maxConcurrency: String?) {
        guard initializationType == Self.managedInstancesInitializationType else {
            self = .classic
            return
        }
        self = .managedInstances(maxConcurrency: maxConcurrency.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil })
    }

    /// Managed Instances refuse an INVOKE registration (the environment fails INIT).
    public var registrationEvents: [ExtensionEventType] {
        switch self {
        case .classic: [.invoke, .shutdown]
        case .managedInstances: [.shutdown]
        }
    }

    /// Managed Instances accept only 2025-01-29; classic keeps the schema the collector was built and tested on.
    public var telemetrySchema: String {
        switch self {
        case .classic: "2022-12-13"
        case .managedInstances: "2025-01-29"
        }
    }

    /// Telemetry batching window. Classic: the shortest Lambda allows, since runtimeDone ends the invocation the
    /// function waits on. Managed Instances: nothing waits on a report, so fewer, larger deliveries cost less CPU.
    public var telemetryTimeoutMs: Int {
        switch self {
        case .classic: 25
        case .managedInstances: 100
        }
    }

    public var isManagedInstances: Bool {
        if case .managedInstances = self { return true }
        return false
    }
}
