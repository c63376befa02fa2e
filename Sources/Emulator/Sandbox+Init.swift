import Foundation
import LambdaWire

#if canImport(Glibc)
import Glibc
#endif

extension Sandbox {
    /// Runs Lambda's init: extensions start and register, then the runtime starts and calls `next`, then every
    /// extension calls `next`. Returns when it is done or has failed (the caller then resets).
    func initialize(phase initPhase: InitPhase) async -> InitOutcome {
        await withCheckedContinuation { (waiter: CheckedContinuation<InitOutcome, Never>) in
            startInit(initPhase, waiter: waiter)
        }
    }

    private func startInit(_ initPhase: InitPhase, waiter: CheckedContinuation<InitOutcome, Never>) {
        generation += 1
        let gen = generation
        let startMillis = Self.nowMillis()
        phase = .initializing(InitProgress(
            stage: .extensionsRegistering, phase: initPhase, startedAt: .now, startedAtMillis: startMillis, waiters: [waiter]))
        registrationOpen = true
        subscriptionsOpen = true
        subscribedAPIs = [:]
        hubFeed.yield(.beginInit)
        publish(.initStart(PlatformInitStart(
            initializationType: configuration.mode.initializationType, phase: initPhase, functionName: configuration.functionName,
            functionVersion: configuration.functionVersion, instanceId: environment.logStream,
            instanceMaxMemory: configuration.memoryMB * 1024 * 1024)), at: startMillis)

        let files = ExtensionFolder.executables(in: configuration.extensionDirectories)
        expectedExtensions = Set(files.map(\.name))
        let limit = configuration.initTimeoutSeconds
        initTimeoutTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(limit * 1000)))
            if !Task.isCancelled { await self?.initTimedOut(generation: gen, seconds: limit) }
        }
        for file in files {
            Task { await self.launchExtension(name: file.name, path: file.path, generation: gen) }
        }
        advanceInit()
    }

    private func launchExtension(name: String, path: String, generation gen: Int) async {
        let console = self.console
        let hubFeed = self.hubFeed
        extensionLaunchedAt[name] = .now
        let child = await ChildProcess.launch(
            label: name, arguments: [path], environment: environment.forExtensions, workingDirectory: nil,
            user: configuration.sandboxUser,
            onLine: { line in
                console.child(name, line)
                hubFeed.yield(.publish(.extensionLog(.text(line)), Sandbox.nowMillis()))
            },
            onExit: { [weak self] exit in Task { await self?.extensionExited(name: name, generation: gen, exit: exit) } })
        guard gen == generation else {
            child.send(SIGKILL)
            return
        }
        extensionProcesses[name] = child
    }

    private func launchRuntime(generation gen: Int) async {
        let console = self.console
        let hubFeed = self.hubFeed
        let logFormatJSON = environment.forRuntime["AWS_LAMBDA_LOG_FORMAT"]?.uppercased() == "JSON"
        let child = await ChildProcess.launch(
            label: "function", arguments: configuration.bootstrap, environment: environment.forRuntime,
            workingDirectory: configuration.taskRoot, user: configuration.sandboxUser,
            onLine: { line in
                console.child("function", line)
                hubFeed.yield(.publish(.function(LogLines.record(line, json: logFormatJSON)), Sandbox.nowMillis()))
            },
            onExit: { [weak self] exit in Task { await self?.runtimeExited(generation: gen, exit: exit) } })
        guard gen == generation else {
            child.send(SIGKILL)
            return
        }
        runtimeProcess = child
    }

    /// Moves init forward after anything it waits for happened.
    func advanceInit() {
        guard case .initializing(var progress) = phase else { return }
        if progress.stage == .extensionsRegistering {
            let registered = Set(extensions.values.filter(\.external).map(\.name))
            guard expectedExtensions.isSubset(of: registered) else { return }
            progress.stage = .runtimeStarting
            phase = .initializing(progress)
            runtime = .started
            let gen = generation
            Task { await self.launchRuntime(generation: gen) }
            return
        }
        if progress.stage == .runtimeStarting {
            guard runtimeReadyForInit else { return }
            runtime = .waiting
            registrationOpen = false
            progress.stage = .extensionsReadying
            phase = .initializing(progress)
            publish(.initRuntimeDone(PlatformInitRuntimeDone(phase: progress.phase, status: .success)))
        }
        if progress.stage == .extensionsReadying {
            guard extensions.values.allSatisfy(\.ready) else { return }
            finishInit(progress)
        }
    }

    private func finishInit(_ progress: InitProgress) {
        initTimeoutTask?.cancel()
        initTimeoutTask = nil
        subscriptionsOpen = false
        let duration = Self.milliseconds(since: progress.startedAt)
        for slot in extensions.values.sorted(by: { $0.name < $1.name }) {
            publish(.extensionState(PlatformExtension(
                name: slot.name, state: "Ready", events: slot.events.map(\.rawValue).sorted())))
        }
        publish(.initReport(PlatformInitReport(
            phase: progress.phase, metrics: DurationMetrics(durationMs: duration), status: .success)))
        hubFeed.yield(.endInit)
        pendingInitDurationMs = duration
        phase = .ready
        for waiter in progress.waiters { waiter.resume(returning: .ready) }
        freezeWhenIdle()
    }

    /// Init failed: report it and hand the failure to whoever waits; the owner then resets.
    func failInit(_ failure: InitFailure) {
        guard case .initializing(let progress) = phase else { return }
        let failure = explained(failure)
        initTimeoutTask?.cancel()
        initTimeoutTask = nil
        registrationOpen = false
        subscriptionsOpen = false
        let duration = Self.milliseconds(since: progress.startedAt)
        if progress.stage != .extensionsReadying {
            publish(.initRuntimeDone(PlatformInitRuntimeDone(
                phase: progress.phase, status: failure.status, errorType: failure.errorType)))
        }
        publish(.initReport(PlatformInitReport(
            phase: progress.phase, metrics: DurationMetrics(durationMs: duration), status: failure.status,
            errorType: failure.errorType)))
        console.line("INIT_REPORT Init Duration: \(Self.format(duration)) ms\tPhase: \(progress.phase)\tStatus: \(failure.status)\tError Type: \(failure.errorType)")
        hubFeed.yield(.endInit)
        phase = .resetting
        for waiter in progress.waiters { waiter.resume(returning: .failed(failure)) }
    }

    private func initTimedOut(generation gen: Int, seconds: Double) {
        guard gen == generation, case .initializing = phase else { return }
        failInit(InitFailure(
            errorType: WireErrorType.sandboxTimedOut,
            errorMessage: "Init timed out after \(Self.format(seconds, decimals: 2)) seconds\(managedWorkersWaiting)", body: nil, status: .timeout))
    }

    static func format(_ value: Double, decimals: Int = 2) -> String {
        String(format: "%.\(decimals)f", value)
    }
}

/// Turns a child's output line into a telemetry log record.
enum LogLines {
    /// With `AWS_LAMBDA_LOG_FORMAT=JSON` a line that is a JSON object becomes an object record, as in Lambda.
    static func record(_ line: String, json: Bool) -> LogLine {
        if json, line.first == "{", let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)),
           case .object = value {
            return .json(value)
        }
        return .text(line)
    }
}

/// Finds the external extensions: every executable regular file directly inside the folders.
enum ExtensionFolder {
    /// Lambda and RIE skip extensions when this file exists.
    static let disableMarker = "/opt/disable-extensions-jwigqn8j"

    static func executables(in directories: [String]) -> [(name: String, path: String)] {
        if FileManager.default.fileExists(atPath: disableMarker) { return [] }
        var found: [(name: String, path: String)] = []
        var names = Set<String>()
        for dir in directories {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in entries.sorted() where !name.hasPrefix(".") {
                let path = URL(fileURLWithPath: dir).appendingPathComponent(name).path
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                      FileManager.default.isExecutableFile(atPath: path), names.insert(name).inserted
                else { continue }
                found.append((name, path))
            }
        }
        return found
    }
}
