import Foundation
import LambdaWire

extension Sandbox {
    /// Validates the `Lambda-Extension-Identifier` header and returns the slot id.
    func knownExtension(_ header: String?) throws(APIFailure) -> String {
        guard let id = header, !id.isEmpty else {
            throw APIFailure(403, WireErrorType.missingExtensionIdentifier, "Missing \(ExtensionsAPI.Header.identifier) header")
        }
        guard UUID(uuidString: id) != nil else {
            throw APIFailure(403, WireErrorType.invalidExtensionIdentifier, "Invalid extension identifier '\(id)': not a UUID")
        }
        guard extensions[id] != nil else {
            throw APIFailure(403, WireErrorType.unknownExtensionIdentifier, "Unknown extension identifier \(id)")
        }
        return id
    }

    /// `POST /extension/register`.
    func register(name: String?, body: Data, acceptFeature: String?) throws(APIFailure) -> (id: String, response: RegisterResponse) {
        guard let name, !name.isEmpty else {
            throw APIFailure(403, WireErrorType.invalidExtensionName, "Empty extension name")
        }
        guard registrationOpen, case .initializing = phase else {
            throw APIFailure(403, WireErrorType.registrationClosed, "Extension registration closed already: \(name) registered after init ended")
        }
        guard extensions.count < ExtensionsAPI.maxExtensions else {
            throw APIFailure(403, WireErrorType.tooManyExtensions, "Extension limit (\(ExtensionsAPI.maxExtensions)) reached")
        }
        guard !extensions.values.contains(where: { $0.name == name }) else {
            throw APIFailure(403, WireErrorType.invalidExtensionState, "Extension \(name) is already registered")
        }
        let request: RegisterRequest
        do {
            let object = try JSONSerialization.jsonObject(with: body.isEmpty ? Data("{}".utf8) : body) as? [String: Any]
            guard let object else { throw APIFailure(403, WireErrorType.invalidRequestFormat, "the register body must be a JSON object") }
            if object["configurationKeys"] != nil {
                throw APIFailure(403, WireErrorType.invalidRequestFormat, "configurationKeys are not supported")
            }
            let raw = object["events"] as? [String] ?? []
            var events: [ExtensionEventType] = []
            for value in raw {
                guard let event = ExtensionEventType(rawValue: value) else {
                    throw APIFailure(403, WireErrorType.invalidEventType, "\(value): unknown event type (use INVOKE or SHUTDOWN)")
                }
                events.append(event)
            }
            request = RegisterRequest(events: events)
            if let refused = events.first(where: { !configuration.mode.allowedExtensionEvents.contains($0) }) {
                // RIE's ValidateExternalAgentEvent on Managed Instances: 403, "<event>: ErrorInvalidEventType".
                managed?.refusedForInvoke[name] = refused.rawValue
                console.note("extension '\(name)' registered for \(refused.rawValue), which Lambda Managed Instances refuse "
                    + "(extensions may register for SHUTDOWN only): 403 \(WireErrorType.invalidEventType); init fails with \(WireErrorType.extensionInitError)")
                throw APIFailure(403, WireErrorType.invalidEventType, "\(refused.rawValue): ErrorInvalidEventType")
            }
        } catch let failure as APIFailure {
            throw failure
        } catch {
            throw APIFailure(403, WireErrorType.invalidRequestFormat, "the register body is not valid JSON: \(error.localizedDescription)")
        }
        let external = expectedExtensions.contains(name)
        if !external {
            if request.events.contains(.shutdown) {
                console.note("extension '\(name)' matches no file in the extensions folders (\(expectedExtensions.sorted().joined(separator: ", "))), so it counts as internal, and internal extensions cannot subscribe to SHUTDOWN: register with the executable's file name")
                throw APIFailure(403, WireErrorType.invalidEventType, "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension")
            }
            console.note("extension '\(name)' matches no file in the extensions folders; registered as an internal extension")
        }
        let id = UUID().uuidString.lowercased()
        extensions[id] = ExtensionSlot(id: id, name: name, events: Set(request.events), external: external)
        if external, let launched = extensionLaunchedAt[name] {
            console.line("EXTENSION \(name) registered \(Self.format(Self.milliseconds(since: launched), decimals: 3)) ms after launch")
        }
        let accountID = (acceptFeature ?? "").split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "accountId" }
            ? configuration.accountID : nil
        let response = RegisterResponse(
            functionName: configuration.functionName, functionVersion: configuration.functionVersion,
            handler: configuration.handler ?? "", accountId: accountID)
        advanceInit()
        return (id, response)
    }

    /// `GET /extension/event/next`: ends the extension's init or its part of an invoke, then waits for an event.
    func extensionNext(_ header: String?) async throws(APIFailure) -> ExtensionNext {
        let id = try knownExtension(header)
        guard var slot = extensions[id] else { throw APIFailure(403, WireErrorType.unknownExtensionIdentifier, "Unknown extension identifier \(id)") }
        if let previous = slot.waiter {
            // A client that lost its connection asks again: the newer request takes over the wait.
            slot.waiter = nil
            extensions[id] = slot
            previous.resume(returning: .superseded)
        }
        var released = false
        if slot.busy {
            slot.busy = false
            released = true
        }
        let firstNext = !slot.ready
        slot.ready = true
        var immediate: ExtensionEvent?
        if !slot.pending.isEmpty {
            let event = slot.pending.removeFirst()
            if event.eventType == .invoke { slot.busy = true }
            immediate = event
        }
        extensions[id] = slot
        if firstNext, slot.external, let launched = extensionLaunchedAt[slot.name] {
            console.line("EXTENSION \(slot.name) ready \(Self.format(Self.milliseconds(since: launched), decimals: 3)) ms after launch")
        }
        if firstNext { advanceInit() }
        if released { checkInvocationComplete() }
        if let immediate { return .event(immediate) }
        return await withCheckedContinuation { (waiter: CheckedContinuation<ExtensionNext, Never>) in
            if extensions[id] == nil {
                waiter.resume(returning: .terminated)
            } else {
                extensions[id]?.waiter = waiter
            }
        }
    }

    /// `POST /extension/init/error` and `/extension/exit/error`: the environment fails.
    func extensionError(_ header: String?, errorType: String?, exit: Bool) throws(APIFailure) {
        let id = try knownExtension(header)
        guard let errorType, !errorType.isEmpty else {
            throw APIFailure(403, WireErrorType.missingHeader, "Missing \(ExtensionsAPI.Header.functionErrorType) header")
        }
        let name = extensions[id]?.name ?? id
        let kind = exit ? WireErrorType.extensionExitError : WireErrorType.extensionInitError
        let message = "extension \(name) reported \(exit ? "an exit" : "an init") error: \(errorType)"
        switch phase {
        case .initializing:
            failInit(InitFailure(errorType: kind, errorMessage: message, body: nil, status: .error))
        case .invoking:
            invocationFailed(errorType: kind, message: message, runtimeExit: nil)
        case .ready:
            if exit, managed != nil {
                managedEnvironmentFailed(errorType: kind, message: message, runtimeExit: nil)
            } else if exit {
                Task { await self.resetAfterReportedError() }
            }
        default:
            break
        }
    }

    private func resetAfterReportedError() async {
        guard await acquire() else { return }
        if case .ready = phase {
            await resetAndRelease(.failure)
            return
        }
        release()
    }

    /// `PUT /2022-07-01/telemetry` and `PUT /2020-08-15/logs`.
    func subscribe(_ header: String?, api: SubscriptionAPI, body: Data) throws(APIFailure) {
        if api != .telemetry, !configuration.mode.logsAPIAvailable {
            // RIE-LMI's stub: 202 with Logs.NotSupported; nothing is ever delivered.
            console.note("the Logs API does not exist on Lambda Managed Instances; subscribe with the Telemetry API (schema 2025-01-29)")
            throw APIFailure(202, WireErrorType.logsNotSupported, "Logs API is not supported")
        }
        let id = try knownExtension(header)
        let validation = api == .telemetry ? WireErrorType.telemetryValidation : WireErrorType.logsValidation
        guard subscriptionsOpen, case .initializing = phase else {
            if api == .telemetry {
                throw APIFailure(403, WireErrorType.telemetrySubscriptionClosed, "Telemetry API subscription is closed")
            }
            throw APIFailure(403, "Logs.SubscriptionClosed", "Logs API subscription is closed")
        }
        let subscription: TelemetrySubscription
        do {
            subscription = try JSONDecoder().decode(TelemetrySubscription.self, from: body)
        } catch {
            throw APIFailure(400, validation, "the subscription body does not match the schema: \(Self.describe(error))")
        }
        var effectiveAPI = api
        if api == .telemetry {
            let accepted = configuration.mode.telemetrySchemas
            if let v = subscription.schemaVersion, !accepted.contains(v) {
                throw APIFailure(400, validation, "schemaVersion '\(v)' is not one of \(accepted.joined(separator: ", "))")
            }
            if subscription.schemaVersion == nil, configuration.mode != .onDemand {
                throw APIFailure(400, validation, "schemaVersion is required on Lambda Managed Instances (2025-01-29)")
            }
        } else {
            let v = subscription.schemaVersion ?? LogsAPI.version
            guard LogsAPI.schemaVersions.contains(v) else {
                throw APIFailure(400, validation, "schemaVersion '\(v)' is not one of \(LogsAPI.schemaVersions.joined(separator: ", "))")
            }
            effectiveAPI = .logs(schema: v)
        }
        guard !subscription.types.isEmpty else {
            throw APIFailure(400, validation, "types must name at least one of platform, function, extension")
        }
        if let why = (subscription.buffering ?? TelemetryBuffering()).validationFailure() {
            throw APIFailure(400, validation, why)
        }
        let url = try TelemetryHub.deliveryURL(for: subscription.destination, reservedPort: configuration.apiAddress.port)
        if let existing = subscribedAPIs[id] {
            let sameAPI = (existing == .telemetry) == (api == .telemetry)
            if !sameAPI || api == .telemetry {
                throw APIFailure(400, validation, existing == .telemetry
                    ? "this extension already subscribed with the Telemetry API; an extension subscribes once, with one of the two APIs"
                    : "this extension already subscribed with the Logs API; an extension subscribes with one of the two APIs")
            }
        }
        subscribedAPIs[id] = effectiveAPI
        let name = extensions[id]?.name ?? id
        hubFeed.yield(.subscribe(
            extensionID: id, name: name, api: effectiveAPI, categories: Set(subscription.types), destination: url,
            buffering: subscription.buffering ?? TelemetryBuffering()))
        let types = subscription.types.map(\.rawValue)
        if api == .telemetry {
            publish(.telemetrySubscription(PlatformSubscription(name: name, types: types)))
        } else {
            publish(.logsSubscription(PlatformSubscription(name: name, types: types)))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx), DecodingError.dataCorrupted(let ctx):
            (ctx.codingPath.map(\.stringValue).joined(separator: ".").isEmpty ? "" : ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": ") + ctx.debugDescription
        default: "\(error)"
        }
    }
}
