import Foundation
import LambdaWire
import Testing
@testable import Emulator

/// The emulator's pure parts, without processes.
@Suite("emulator parts")
struct EmulatorPartsTests {
    @Test func deliveryKeepsThePathAndRewritesTheSandboxHost() throws {
        let url = try TelemetryHub.deliveryURL(
            for: TelemetryDestination(URI: "http://sandbox.localdomain:4243/telemetry/in?x=1"), reservedPort: 9101)
        #expect(url.absoluteString == "http://127.0.0.1:4243/telemetry/in?x=1")
        let bare = try TelemetryHub.deliveryURL(for: TelemetryDestination(URI: "http://sandbox:8080"), reservedPort: 9101)
        #expect(bare.absoluteString == "http://127.0.0.1:8080")
    }

    @Test("destinations Lambda would refuse get a 400 ValidationError", arguments: [
        TelemetryDestination(protocol: "TCP", port: 4243),
        TelemetryDestination(protocol: "HTTP", URI: "https://sandbox.localdomain:4243/"),
        TelemetryDestination(protocol: "HTTP", URI: "http://example.com:4243/"),
        TelemetryDestination(protocol: "HTTP", URI: "http://sandbox.localdomain:9001/"),
        TelemetryDestination(protocol: "HTTP", URI: nil),
        TelemetryDestination(protocol: "UDP", URI: "http://sandbox:1/"),
    ])
    func refusedDestinations(_ destination: TelemetryDestination) {
        do {
            _ = try TelemetryHub.deliveryURL(for: destination, reservedPort: 9101)
            Issue.record("accepted \(destination)")
        } catch {
            #expect(error.status == 400 && error.errorType == WireErrorType.telemetryValidation && !error.errorMessage.isEmpty)
        }
    }

    @Test func logsAPISubscribersGetTheLogsAPIShapes() throws {
        let report = TelemetryEvent(time: "2026-01-10T10:00:00.470Z", record: .report(PlatformReport(
            requestId: "r", status: .success, metrics: ReportMetrics(durationMs: 5, billedDurationMs: 5, memorySizeMB: 128, maxMemoryUsedMB: 40))))
        let shaped = try #require(TelemetryHub.shape(report, for: .logs(schema: "2020-08-15")))
        guard case .unknown(let type, let record) = shaped.record else { Issue.record("not reshaped"); return }
        #expect(type == "platform.report")
        #expect(record["status"] == nil && record["metrics"]?["maxMemoryUsedMB"] == .number(40))
        let initStart = TelemetryEvent(time: "2026-01-10T10:00:00.470Z", record: .initStart(PlatformInitStart(phase: .`init`)))
        #expect(TelemetryHub.shape(initStart, for: .logs(schema: "2020-08-15")) == nil)
        let done = TelemetryEvent(time: "2026-01-10T10:00:00.470Z", record: .runtimeDone(PlatformRuntimeDone(requestId: "r", status: .timeout)))
        #expect(TelemetryHub.shape(done, for: .logs(schema: "2020-08-15")) == nil)
        #expect(TelemetryHub.shape(done, for: .logs(schema: "2021-03-18")) != nil)
        let end = TelemetryEvent(time: "2026-01-10T10:00:00.470Z", record: .end(PlatformEnd(requestId: "r")))
        #expect(TelemetryHub.shape(end, for: .telemetry) == nil)
        #expect(TelemetryHub.shape(report, for: .telemetry) == report)
    }

    @Test func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:0") == ListenAddress(host: "127.0.0.1", port: 0))
        #expect(try ListenAddress(parsing: ":9000") == ListenAddress(host: "127.0.0.1", port: 9000))
        #expect(try ListenAddress(parsing: "[::1]:9001").host == "::1")
        #expect(throws: EmulatorError.self) { try ListenAddress(parsing: "localhost:99999") }
        #expect(throws: EmulatorError.self) { try ListenAddress(parsing: "localhost") }
    }

    @Test func extensionsGetLambdasReducedEnvironment() {
        var config = EmulatorConfiguration(bootstrap: ["/bin/true"])
        config.handler = "app.handler"
        config.taskRoot = "/var/task"
        config.baseEnvironment = ["ELASTIC_APM_LAMBDA_APM_SERVER": "http://apm", "AWS_XRAY_DAEMON_ADDRESS": "x"]
        let env = LambdaEnvironment(configuration: config, runtimeAPI: "127.0.0.1:9001", logStream: "2026/01/01/[$LATEST]abc")
        let runtime = env.forRuntime
        #expect(runtime["_HANDLER"] == "app.handler" && runtime["LAMBDA_TASK_ROOT"] == "/var/task")
        #expect(runtime["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001" && runtime["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128")
        let ext = env.forExtensions
        #expect(ext["ELASTIC_APM_LAMBDA_APM_SERVER"] == "http://apm")
        #expect(ext["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001" && ext["LANTERN_EMULATOR"] == "1")
        for hidden in ["_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_XRAY_DAEMON_ADDRESS"] {
            #expect(ext[hidden] == nil, "\(hidden) leaked to extensions")
        }
    }

    @Test func memoryOfThisProcessTree() {
        let kb = MemorySampler.treePeakKB(root: getpid())
        #expect(kb > 1024)
        #expect(MemorySampler.megabytes(kilobytes: 1025) == 2)
        #expect(MemorySampler.treePeakKB(root: 999_999_999) == 0)
    }

    @Test func traceIDs() {
        let id = TraceID.generate()
        #expect(id.hasPrefix("Root=1-") && id.hasSuffix(";Sampled=0"))
        #expect(TraceID.parent(of: id)?.count == 16)
        #expect(TraceID.parent(of: "Root=1-abc") == nil)
    }
}
