// A server URL with `user:password@` (or a token in its query) is refused; what says so on stderr, to Lambda
// and in `lifecycle_events` must name the server without its credentials.

@testable import Collector
import LanternStore
import Logging
import NIOCore
import Synchronization
import Testing

/// Keeps every message logged through it.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "test.captured") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { log.append("\(event.level): \(event.message)") }
    }
}

@Suite("Credentials in server URLs", .serialized)
struct CredentialRedactionTests {
    static let password = "s3cr3t-pw"
    static let token = "t0ken-value"
    static let url = "https://elastic:\(password)@apm.example.com:8200/prefix?api_token=\(token)"

    @Test("userinfo, query values and fragments are hidden; scheme, host, port and path stay", arguments: [
        ("https://user:pw@apm.example.com:8200/x", "https://***@apm.example.com:8200/x"),
        ("https://user@apm.example.com", "https://***@apm.example.com"),
        ("https://u:p/w?d#x@apm.example.com/", "https://***@apm.example.com/"),
        ("https://apm.example.com/?token=abc&flag&k=", "https://apm.example.com/?token=***&***&k=***"),
        ("https://apm.example.com/p#secret", "https://apm.example.com/p#***"),
        ("https://apm.example.com:8200", "https://apm.example.com:8200"),
        ("apm.example.com", "apm.example.com"),
        ("ftp://user:pw@host", "ftp://***@host"),
    ])
    func redaction(_ pair: (String, String)) {
        #expect(URLRedaction.redacted(pair.0) == pair.1)
    }

    @Test func userInfoIsFoundInTheAuthorityOnly() {
        #expect(URLRedaction.hasUserInfo("https://user:pw@apm.example.com"))
        #expect(!URLRedaction.hasUserInfo("https://apm.example.com/?mail=a@b"))
    }

    @Test("the forwarding_disabled row and the log line name the server, not its password or token")
    func forwarderNoteHasNoCredentials() async throws {
        let store = try TestStore()
        let log = CapturedLog()
        let forwarder = Forwarder(
            configuration: ForwarderConfiguration(serverURL: Self.url), recorder: store.recorder,
            environmentID: "env-credentials", logger: log.logger())
        await forwarder.shutdown(deadline: .now() + .seconds(1))
        try await store.recorder.flush()
        let connection = try Connection(path: store.path, mode: .readOnly)
        defer { connection.close() }
        let rows = try connection.rows("SELECT kind, detail FROM lifecycle_events ORDER BY id")
        let detail = try #require(rows.first { $0[0].string == "forwarding_disabled" }?[1].string)
        #expect(detail.contains("apm.example.com") && detail.contains("credentials"), "\(detail)")
        #expect(!log.all.isEmpty)
        for text in [detail] + log.all + rows.compactMap({ $0[1].string }) {
            #expect(!text.contains(Self.password) && !text.contains(Self.token), "\(text)")
        }
        await store.close()
    }

    @Test("a refused URL's configuration error (stderr and Lambda's init error) hides its password")
    func configErrorHasNoCredentials() {
        let error = #expect(throws: ConfigError.self) {
            _ = try CollectorConfig.load(
                environment: ["ELASTIC_APM_LAMBDA_APM_SERVER": "ftp://elastic:\(Self.password)@apm.example.com"],
                arguments: ["x"])
        }
        let text = error?.description ?? ""
        #expect(text.contains("ftp://***@apm.example.com"), "\(text)")
        #expect(!text.contains(Self.password), "\(text)")
    }
}
