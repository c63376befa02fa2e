import AsyncHTTPClient
import Foundation
import LambdaWire
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Where the emulator listens, once bound.
public struct EmulatorAddresses: Sendable, Codable, Equatable {
    /// The full invoke URL.
    public var invoke: String
    /// `host:port` of the Runtime/Extensions/Telemetry/Logs APIs (`AWS_LAMBDA_RUNTIME_API`).
    public var api: String
}

/// `lantern emulate`: a local Lambda execution environment. Run it as a swift-service-lifecycle `Service`;
/// a graceful shutdown (SIGINT/SIGTERM) spins the sandbox down with SHUTDOWN `spindown`.
public final class Emulator: Service {
    public let configuration: EmulatorConfiguration
    private let onListening: @Sendable (EmulatorAddresses) -> Void

    public init(configuration: EmulatorConfiguration, onListening: @escaping @Sendable (EmulatorAddresses) -> Void = { _ in }) {
        self.configuration = configuration
        self.onListening = onListening
    }

    public func run() async throws {
        try configuration.validate()
        // A reader of our stdout going away must not kill the sandbox (and orphan its children).
        signal(SIGPIPE, SIG_IGN)
        let group = MultiThreadedEventLoopGroup.singleton
        let api: HTTPServer
        let invoke: HTTPServer
        do {
            api = try await HTTPServer.bind(configuration.apiAddress, group: group)
        } catch {
            throw EmulatorError(.bindFailed, "cannot listen on \(configuration.apiAddress) (--api-address): \(error)")
        }
        do {
            invoke = try await HTTPServer.bind(configuration.invokeAddress, group: group)
        } catch {
            await api.close()
            throw EmulatorError(.bindFailed, "cannot listen on \(configuration.invokeAddress) (--address): \(error)")
        }

        var configuration = self.configuration
        configuration.apiAddress = api.localAddress
        configuration.invokeAddress = invoke.localAddress
        let apiHost = ["0.0.0.0", "::", ""].contains(api.localAddress.host) ? "127.0.0.1" : api.localAddress.host
        let runtimeAPI = ListenAddress(host: apiHost, port: api.localAddress.port).description
        let invokeHost = ["0.0.0.0", "::", ""].contains(invoke.localAddress.host) ? "127.0.0.1" : invoke.localAddress.host
        let addresses = EmulatorAddresses(
            invoke: "http://\(ListenAddress(host: invokeHost, port: invoke.localAddress.port))\(InvokeAPI.path)", api: runtimeAPI)

        let console = Console(quiet: configuration.quiet)
        let environment = LambdaEnvironment(
            configuration: configuration, runtimeAPI: runtimeAPI,
            logStream: LambdaEnvironment.makeLogStream(version: configuration.functionVersion))
        let (feed, feedInput) = AsyncStream.makeStream(of: HubCommand.self)
        let hub = TelemetryHub(console: console)
        let sandbox = Sandbox(configuration: configuration, environment: environment, console: console, hubFeed: feedInput)
        // Kept open until the emulator exits (see SandboxStore).
        var sandboxStore: SandboxStore?
        if let user = configuration.sandboxUser,
           let path = SandboxStore.path(
               extensionEnvironment: environment.forExtensions,
               extensionNames: ExtensionFolder.executables(in: configuration.extensionDirectories).map(\.name)) {
            sandboxStore = SandboxStore.prepare(path: path, for: user, console: console)
        }
        defer { withExtendedLifetime(sandboxStore) {} }
        let controlPlane = ControlPlane(sandbox: sandbox, telemetryUnavailable: configuration.telemetryUnavailable)
        let endpoint = InvokeEndpoint(sandbox: sandbox, dialect: configuration.dialect, functionVersion: configuration.functionVersion)

        if let path = configuration.readyFile {
            do {
                let data = try JSONEncoder().encode(addresses)
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                await api.close()
                await invoke.close()
                throw EmulatorError(.readyFileUnwritable, "cannot write --ready-file \(path): \(error.localizedDescription)")
            }
        }
        console.line("lantern emulate: invoke \(addresses.invoke)  api \(addresses.api)")
        console.line("lantern emulate: sandbox runs as \(configuration.sandboxUser.map(\.description) ?? "uid \(geteuid()) (the emulator's user)"), "
            + (configuration.freezes ? "frozen between invocations"
                : configuration.freeze ? "never frozen (Lambda Managed Instances)" : "never frozen (--no-freeze)"))
        if case .managedInstances(let n) = configuration.mode {
            console.line("lantern emulate: Lambda Managed Instances, max concurrency \(n): one runtime, \(n) workers, extensions SHUTDOWN only")
        }
        onListening(addresses)
        if configuration.eagerInit {
            Task { await sandbox.initializeEagerly() }
        }

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await api.serve(bodyLimit: ControlPlane.bodyLimit, responder: controlPlane.respond) }
                tasks.addTask { await invoke.serve(bodyLimit: InvokeEndpoint.bodyLimit, responder: endpoint.respond) }
                tasks.addTask { await Self.drive(hub, feed) }
            }
        } onGracefulShutdown: {
            Task {
                await sandbox.spindown()
                feedInput.finish()
                await invoke.close()
                await api.close()
            }
        }
    }

    /// Applies the sandbox's hub commands in order.
    private static func drive(_ hub: TelemetryHub, _ feed: AsyncStream<HubCommand>) async {
        for await command in feed {
            switch command {
            case .publish(let record, let millis): await hub.publish(record, at: millis)
            case .beginInit: await hub.beginInit()
            case .endInit: await hub.endInit()
            case .subscribe(let id, let name, let api, let categories, let destination, let buffering):
                await hub.subscribe(extensionID: id, name: name, api: api, categories: categories, destination: destination, buffering: buffering)
            case .removeAll: await hub.removeAll()
            case .flush(let done):
                await hub.flushAll(limit: .milliseconds(500))
                done.resume()
            case .pause(let done):
                await hub.pause()
                done.resume()
            case .resume:
                await hub.resume()
            }
        }
        await hub.removeAll()
    }
}
