// The collector process from start to exit: configuration, registration (first: Lambda starts the
// runtime only once every extension has registered), the store, the agent receiver, the telemetry
// subscription, then the services until SHUTDOWN or a signal. Shared by `lantern-extension` and
// `lantern collect`.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LambdaWire
import LanternStore
import Logging
import NIOCore
import NIOPosix

/// Runs the collector; returns the process exit code.
public enum CollectorProcess {
    /// Entry point of `lantern-extension`: handles `--version`, runs, exits with the right code.
    public static func main(arguments: [String] = CommandLine.arguments) async -> Never {
        if arguments.dropFirst().contains("--version") {
            print(LanternVersion.current)
            exit(0)
        }
        let code = await run(environment: ProcessEnvironment.current, arguments: arguments)
        exit(code)
    }

    /// Starts, registers, serves until SHUTDOWN (or SIGTERM/SIGINT) and shuts down. 0 = clean exit.
    public static func run(environment: [String: String], arguments: [String]) async -> Int32 {
        let startedAt = epochMicros()
        unblockTerminationSignals()
        let environmentID = RandomUUID.make()
        var config: CollectorConfig
        var configError: ConfigError?
        do {
            config = try CollectorConfig.load(environment: environment, arguments: arguments)
        } catch {
            configError = error
            let name = environment["LANTERN_EXTENSION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? arguments.first.map(CollectorConfig.basename) ?? "lantern-extension"
            config = CollectorConfig(extensionName: name)
            config.runtimeAPI = environment["AWS_LAMBDA_RUNTIME_API"]
        }
        // Decided once, here, from the environment itself (also when the rest of the configuration is bad: an INVOKE
        // registration would fail INIT on Managed Instances).
        let mode = ExecutionMode(
            initializationType: environment["AWS_LAMBDA_INITIALIZATION_TYPE"],
            maxConcurrency: environment["AWS_LAMBDA_MAX_CONCURRENCY"])
        var logger = Logger(label: config.extensionName) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = config.logLevel
        for warning in config.warnings { logger.warning("\(warning)") }

        guard let runtimeAPI = config.runtimeAPI else {
            logger.critical("AWS_LAMBDA_RUNTIME_API is not set: run inside Lambda or an emulator (lantern emulate)")
            return 2
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let client = ExtensionsClient(runtimeAPI: runtimeAPI, eventLoopGroup: group)

        // 1. Register first: it is on the function's cold-start path.
        let registration: ExtensionRegistration
        do {
            registration = try await client.register(name: config.extensionName, events: mode.registrationEvents)
        } catch {
            logger.critical("registration as '\(config.extensionName)' failed: \(error)")
            try? await client.initError(identifier: "", errorType: "Extension.RegistrationFailed", message: "\(error)")
            await client.shutdown()
            return 1
        }
        let registeredAt = epochMicros()
        if let configError {
            logger.critical("bad configuration: \(configError)")
            try? await client.initError(identifier: registration.identifier, errorType: "Extension.ConfigError",
                                        message: configError.description)
            await client.shutdown()
            return 1
        }

        // 2. The store. Failing to open it costs the store, never the function or the forwarding.
        var recorder: Recorder?
        if let path = config.storePath {
            var options = Recorder.Options()
            options.logRetention = config.logRetention
            // One invocation makes ~8 records, and the run loop asks for a commit before each `next` (the sandbox
            // may freeze right after). A commit costs ~30 WAL writes and a quarter of a millisecond of CPU
            // (docs/layer.md), so while invocations come faster than the delay they share one: the facts of the
            // last ones before a freeze are committed at the thaw or at SHUTDOWN. The dashboard sees rows ≤ 250 ms
            // later while traffic flows, at once when it is slower.
            options.commitDelayMs = 250
            options.minimumCommitIntervalMs = 250
            // The writer appends; the pages it needs again are the B-trees' right edges and a few index pages.
            // SQLite's default 2 MB cache would fill with pages never read again and count in the RSS.
            options.pageCacheKB = 256
            // Lambda's /tmp is the function's too: never fill it (docs/store.md, "The size bound").
            switch config.storeMaxMB {
            case 0?: options.sizeBoundBytes = nil
            case let megabytes?: options.sizeBoundBytes = megabytes << 20
            case nil: options.sizeBoundBytes = StorePruner.defaultBound(forStoreAt: path)
            }
            // Opened on the writer thread: creating the store (several fsyncs) stays off the cold-start path.
            let log = logger
            do {
                recorder = try Recorder(
                    openingInBackground: path, options: options,
                    onFailure: { error in
                        log.error("the store at \(path) cannot be used (\(error)); forwarding goes on, recording resumes when it can be opened")
                    },
                    onRecovery: { detail in log.notice("\(detail)") })
            } catch {
                logger.error("the store at \(path) cannot be used (\(error)); running without a store")
            }
        } else {
            logger.notice("LANTERN_DB=off: running without a store")
        }
        let sink: (any FactSink)? = recorder
        func lifecycle(_ kind: String, at: Int64 = epochMicros(), name: String? = nil, detail: String? = nil) {
            sink?.record(.lifecycle(LifecycleEvent(environmentID: environmentID, at: at, kind: kind, name: name,
                                                   detail: detail)))
        }
        var environmentFact = EnvironmentFact(id: environmentID)
        environmentFact.functionName = registration.response.functionName
        environmentFact.functionVersion = registration.response.functionVersion
        environmentFact.memoryMB = config.function.memoryMB
        environmentFact.region = config.function.region
        environmentFact.runtime = config.function.runtime
        environmentFact.logStream = config.function.logStream
        environmentFact.source = config.function.emulated ? .emulator : .lambda
        environmentFact.extensionName = config.extensionName
        environmentFact.extensionVersion = LanternVersion.current
        environmentFact.startedAt = startedAt
        environmentFact.registeredAt = registeredAt
        environmentFact.initializationType = environment["AWS_LAMBDA_INITIALIZATION_TYPE"]
        if case .managedInstances(let maxConcurrency) = mode { environmentFact.maxConcurrency = maxConcurrency }
        sink?.record(.environment(environmentFact))
        lifecycle("startup", at: startedAt, name: config.extensionName, detail: "version \(LanternVersion.current)")
        lifecycle("registered", at: registeredAt, name: config.extensionName,
                  detail: "function \(registration.response.functionName) \(registration.response.functionVersion)")
        for warning in config.warnings { lifecycle("config_warning", detail: warning) }
        if case .managedInstances(let maxConcurrency) = mode {
            let detail = "Lambda Managed Instances, up to \(maxConcurrency.map(String.init) ?? "?") invocations at once: "
                + "registered for SHUTDOWN only; invocations end with their platform.report; data goes out by size and age"
            logger.notice("\(detail)")
            lifecycle("managed_instances", name: config.extensionName, detail: detail)
        }

        // 3. The agent side: forwarder and receiver.
        var forwarderConfiguration = ForwarderConfiguration(
                serverURL: config.apmServerURL, apiKey: config.apiKey, secretToken: config.secretToken,
                verifyServerCert: config.verifyServerCert, caCertPEM: config.serverCACertPEM,
                sendTimeout: TimeAmount(config.forwarderTimeout),
                userAgent: "lantern-extension/\(LanternVersion.current)",
                functionName: config.function.name ?? registration.response.functionName,
                functionVersion: config.function.version ?? registration.response.functionVersion,
                memoryMB: config.function.memoryMB, region: config.function.region, runtime: config.function.runtime,
                logStream: config.function.logStream, collectorVersion: LanternVersion.current)
        forwarderConfiguration.initializationType = config.function.initializationType
        if case .managedInstances(let maxConcurrency) = mode { forwarderConfiguration.maxConcurrency = maxConcurrency }
        if mode.isManagedInstances {
            // Nothing ends an invocation's wait here, so age is what sends: data reaches the APM Server within about
            // a second and a tick of the agent's flush.
            forwarderConfiguration.maxBatchAge = .seconds(1)
        }
        let forwarder = Forwarder(
            configuration: forwarderConfiguration,
            recorder: recorder, environmentID: environmentID, logger: logger, eventLoopGroup: group)
        // Decided once: with `LANTERN_FORWARD_LIFECYCLE=false` (or no APM Server) the books have nowhere to send
        // lifecycle facts and build none.
        let lifecycleForwarder: (any EventForwarding)? = config.forwardLifecycle && forwarder.client != nil ? forwarder : nil
        let book: ModeBook = mode.isManagedInstances
            ? .concurrent(ConcurrentBook(
                environmentID: environmentID, recorder: sink, forwarder: forwarder, lifecycle: lifecycleForwarder))
            : .classic(InvocationBook(
                environmentID: environmentID, recorder: sink, forwarder: forwarder, lifecycle: lifecycleForwarder))
        let observer = book.observer
        if let recorder, let path = config.storePath {
            // Off the start-up path: it waits for the store to open.
            Task { await KilledEnvironments.closeOut(
                storePath: path, recorder: recorder, forwarder: forwarder, environmentID: environmentID, logger: logger) }
        }
        let receiver = AgentReceiver(
            host: "127.0.0.1", port: config.receiverPort, forwarder: forwarder, observer: observer,
            configuration: ReceiverConfiguration(
                proxyTimeout: TimeAmount(config.receiverTimeout), readTimeout: TimeAmount(config.receiverTimeout)),
            recorder: recorder, environmentID: environmentID, logger: logger, eventLoopGroup: group)
        var services: [any CollectorService] = []
        do {
            let port = try await receiver.start()
            lifecycle("listening", name: "agent-receiver", detail: "127.0.0.1:\(port)")
            services.append(ListenerService(name: "agent-receiver", recorder: sink, environmentID: environmentID,
                                            close: { await receiver.stop() }))
        } catch {
            // Agents cannot reach us, but the function must run: record it and carry on with telemetry.
            logger.error("the agent receiver cannot listen on 127.0.0.1:\(config.receiverPort): \(error)")
            lifecycle("receiver_failed", name: "agent-receiver", detail: "127.0.0.1:\(config.receiverPort): \(error)")
        }

        // 4. Telemetry: a 202 or an error means "no telemetry here", never a failure of the extension.
        var telemetry = false
        if config.telemetryDisabled {
            recordTelemetry(sink, environmentID, .unavailable, "disabled by ELASTIC_APM_LAMBDA_DISABLE_LOGS_API")
            lifecycle("subscription_failed", name: "telemetry", detail: "disabled by ELASTIC_APM_LAMBDA_DISABLE_LOGS_API")
        } else {
            let listener = TelemetryListener(eventLoopGroup: group, logger: logger)
            var types: [TelemetryCategory] = [.platform]
            if config.captureLogs { types.append(.function) }
            if config.captureExtensionLogs { types.append(.extension) }
            do {
                let endpoint = try await listener.start()
                let subscription = TelemetrySubscription(
                    schemaVersion: mode.telemetrySchema,
                    destination: TelemetryDestination(protocol: "HTTP", URI: endpoint.uri), types: types,
                    buffering: TelemetryBuffering(maxItems: 1_000, maxBytes: 262_144, timeoutMs: mode.telemetryTimeoutMs))
                switch try await client.subscribe(identifier: registration.identifier, subscription: subscription) {
                case .subscribed:
                    telemetry = true
                    let detail = "\(types.map(\.rawValue).joined(separator: ",")) at \(endpoint.uri) (bound \(endpoint.host))"
                    recordTelemetry(sink, environmentID, .subscribed, detail)
                    lifecycle("subscribed", name: "telemetry", detail: detail)
                    let router = TelemetryRouter(book: observer, recorder: sink, environmentID: environmentID,
                                                 forwardLogs: config.captureLogs, logger: logger)
                    services.append(TelemetryService(listener: listener, router: router, recorder: sink,
                                                     environmentID: environmentID))
                case .notSupported(let detail):
                    logger.notice("no Telemetry API here (\(detail)): ending invocations on agent flush and deadline")
                    recordTelemetry(sink, environmentID, .unavailable, detail)
                    lifecycle("subscription_failed", name: "telemetry", detail: "not supported: \(detail)")
                    await listener.stop()
                }
            } catch {
                logger.warning("telemetry subscription failed (\(error)): ending invocations on agent flush and deadline")
                recordTelemetry(sink, environmentID, .failed, "\(error)")
                lifecycle("subscription_failed", name: "telemetry", detail: "\(error)")
                await listener.stop()
            }
        }

        // 5. The run loop, last in the sequence: it is the first to stop, and its end stops the rest.
        let loop: any CollectorService
        switch book {
        case .concurrent(let book):
            if !telemetry { await book.telemetryUnavailable() }
            loop = ConcurrentLoop(
                client: client, identifier: registration.identifier, book: book, forwarder: forwarder, recorder: sink,
                environmentID: environmentID, telemetry: telemetry, logger: logger)
        case .classic(let book):
            if !telemetry { await book.telemetryUnavailable() }
            loop = InvocationLoop(
                client: client, identifier: registration.identifier, book: book, forwarder: forwarder, recorder: sink,
                environmentID: environmentID, sendStrategy: config.sendStrategy,
                forwarderTimeout: config.forwarderTimeout, telemetry: telemetry, logger: logger)
        }
        services.append(loop)
        var exitCode: Int32 = 0
        do {
            try await ServiceSequence(services: services, signals: [.sigterm, .sigint], logger: logger).run()
        } catch {
            logger.error("stopped on error: \(error)")
            exitCode = 1
        }
        lifecycle("terminated", detail: "exit code \(exitCode)")
        if let recorder {
            await recorder.close()
            let statistics = recorder.statistics
            if statistics.dropped > 0 {
                logger.warning("the store dropped \(statistics.dropped) records (last error: \(statistics.lastError.map { "\($0)" } ?? "none"))")
            }
        }
        await client.shutdown()
        return exitCode
    }

    /// A parent that spawned us from a thread with SIGTERM/SIGINT blocked (Swift concurrency and Dispatch
    /// threads block signals) passes that mask on; without this, the graceful shutdown would never run.
    static func unblockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    static func recordTelemetry(_ sink: (any FactSink)?, _ environmentID: String, _ state: TelemetryState, _ detail: String) {
        var fact = EnvironmentFact(id: environmentID)
        fact.telemetry = state
        fact.telemetryDetail = detail
        sink?.record(.environment(fact))
    }
}

/// The per-request book the execution mode calls for.
enum ModeBook {
    case classic(InvocationBook)
    case concurrent(ConcurrentBook)

    /// What the agent receiver and the telemetry router report to.
    var observer: any AgentObserver & TelemetryObserver {
        switch self {
        case .classic(let book): book
        case .concurrent(let book): book
        }
    }
}
