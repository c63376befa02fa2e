@testable import Collector
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CollectorConfigTests {
    @Test func defaultsAreElastics() throws {
        let config = try CollectorConfig.load(environment: [:], arguments: ["/opt/extensions/lantern-extension"])
        #expect(config.apmServerURL == nil)
        #expect(config.sendStrategy == .syncflush)
        #expect(config.receiverPort == 8200)
        #expect(config.receiverTimeout == .seconds(15))
        #expect(config.forwarderTimeout == .seconds(3))
        #expect(config.agentBufferSize == 100)
        #expect(config.logLevel == .info)
        #expect(config.captureLogs)
        #expect(!config.captureExtensionLogs)
        #expect(!config.telemetryDisabled)
        #expect(config.verifyServerCert)
        #expect(config.extensionName == "lantern-extension")
        #expect(config.storePath == "./lantern.db")
        #expect(config.authorization == nil)
        #expect(config.warnings.isEmpty)
    }

    @Test func readsEveryVariable() throws {
        let config = try CollectorConfig.load(environment: [
            "ELASTIC_APM_LAMBDA_APM_SERVER": "https://apm.example.com:8200",
            "ELASTIC_APM_SECRET_TOKEN": "token",
            "ELASTIC_APM_API_KEY": "key",
            "ELASTIC_APM_SEND_STRATEGY": "Background",
            "ELASTIC_APM_DATA_RECEIVER_SERVER_PORT": "8201",
            "ELASTIC_APM_DATA_RECEIVER_TIMEOUT": "1m30s",
            "ELASTIC_APM_DATA_FORWARDER_TIMEOUT": "500ms",
            "ELASTIC_APM_LAMBDA_AGENT_DATA_BUFFER_SIZE": "7",
            "ELASTIC_APM_LOG_LEVEL": "warning",
            "ELASTIC_APM_LAMBDA_CAPTURE_LOGS": "false",
            "LANTERN_CAPTURE_EXTENSION_LOGS": "1",
            "ELASTIC_APM_LAMBDA_DISABLE_LOGS_API": "true",
            "ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT": "false",
            "ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM": "-----BEGIN\\nABC\\n-----END",
            "LANTERN_DB": "/var/tmp/x.db",
            "LANTERN_LOG_RETENTION": "50",
            "LANTERN_EXTENSION_NAME": "my-ext",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_LAMBDA_FUNCTION_NAME": "orders",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_REGION": "eu-west-1",
            "LANTERN_EMULATOR": "1",
        ], arguments: ["lantern-extension"])
        #expect(config.apmServerURL == "https://apm.example.com:8200/")
        #expect(config.authorization == "ApiKey key")
        #expect(config.sendStrategy == .background)
        #expect(config.receiverPort == 8201)
        #expect(config.receiverTimeout == .seconds(90))
        #expect(config.forwarderTimeout == .milliseconds(500))
        #expect(config.agentBufferSize == 7)
        #expect(config.logLevel == .warning)
        #expect(!config.captureLogs)
        #expect(config.captureExtensionLogs)
        #expect(config.telemetryDisabled)
        #expect(!config.verifyServerCert)
        #expect(config.serverCACertPEM == "-----BEGIN\nABC\n-----END")
        #expect(config.storePath == "/var/tmp/x.db")
        #expect(config.logRetention == 50)
        #expect(config.extensionName == "my-ext")
        #expect(config.runtimeAPI == "127.0.0.1:9001")
        #expect(config.function.name == "orders")
        #expect(config.function.memoryMB == 256)
        #expect(config.function.region == "eu-west-1")
        #expect(config.function.emulated)
    }

    @Test func storeDefaultsToTmpInsideLambdaAndCanBeSwitchedOff() throws {
        let inLambda = try CollectorConfig.load(environment: ["AWS_LAMBDA_FUNCTION_NAME": "f"], arguments: ["x"])
        #expect(inLambda.storePath == "/tmp/lantern.db")
        // Under Lantern's emulator the function name is set too, but the store belongs in the working directory.
        let emulated = try CollectorConfig.load(
            environment: ["AWS_LAMBDA_FUNCTION_NAME": "f", "LANTERN_EMULATOR": "1"], arguments: ["x"])
        #expect(emulated.storePath == "./lantern.db")
        let off = try CollectorConfig.load(environment: ["LANTERN_DB": "off"], arguments: ["x"])
        #expect(off.storePath == nil)
    }

    @Test("LANTERN_DB_MAX_MB: a number of MB, 0 or off for none, the default share otherwise; a bad value names the variable")
    func storeBound() throws {
        #expect(try CollectorConfig.load(environment: [:], arguments: ["x"]).storeMaxMB == nil)
        #expect(try CollectorConfig.load(environment: ["LANTERN_DB_MAX_MB": "40"], arguments: ["x"]).storeMaxMB == 40)
        #expect(try CollectorConfig.load(environment: ["LANTERN_DB_MAX_MB": "0"], arguments: ["x"]).storeMaxMB == 0)
        #expect(try CollectorConfig.load(environment: ["LANTERN_DB_MAX_MB": "off"], arguments: ["x"]).storeMaxMB == 0)
        for bad in ["-5", "lots", "1.5"] {
            let error = #expect(throws: ConfigError.self) {
                try CollectorConfig.load(environment: ["LANTERN_DB_MAX_MB": bad], arguments: ["x"])
            }
            #expect(error?.variable == "LANTERN_DB_MAX_MB")
        }
    }

    @Test func bearerWhenOnlyATokenIsSet() throws {
        let config = try CollectorConfig.load(environment: ["ELASTIC_APM_SECRET_TOKEN": "s3cr3t"], arguments: ["x"])
        #expect(config.authorization == "Bearer s3cr3t")
    }

    @Test func deprecatedSecondsVariablesStillWork() throws {
        let config = try CollectorConfig.load(environment: [
            "ELASTIC_APM_DATA_RECEIVER_TIMEOUT_SECONDS": "20", "ELASTIC_APM_DATA_FORWARDER_TIMEOUT_SECONDS": "2",
        ], arguments: ["x"])
        #expect(config.receiverTimeout == .seconds(20))
        #expect(config.forwarderTimeout == .seconds(2))
    }

    @Test func emptyValuesCountAsUnset() throws {
        let config = try CollectorConfig.load(environment: [
            "ELASTIC_APM_LAMBDA_APM_SERVER": "", "ELASTIC_APM_DATA_RECEIVER_SERVER_PORT": "",
        ], arguments: ["x"])
        #expect(config.apmServerURL == nil)
        #expect(config.receiverPort == 8200)
    }

    @Test func unsupportedAWSVariablesWarn() throws {
        let config = try CollectorConfig.load(environment: ["ELASTIC_APM_SECRETS_MANAGER_API_KEY_ID": "arn:x"],
                                              arguments: ["x"])
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.contains("ELASTIC_APM_SECRETS_MANAGER_API_KEY_ID") == true)
    }

    @Test(arguments: [
        ("ELASTIC_APM_SEND_STRATEGY", "sometimes", ConfigError.Code.invalidChoice),
        ("ELASTIC_APM_DATA_RECEIVER_SERVER_PORT", "http", .invalidNumber),
        ("ELASTIC_APM_DATA_RECEIVER_SERVER_PORT", "70000", .invalidPort),
        ("ELASTIC_APM_DATA_RECEIVER_TIMEOUT", "15", .invalidDuration),
        ("ELASTIC_APM_DATA_FORWARDER_TIMEOUT", "-3s", .invalidDuration),
        ("ELASTIC_APM_DATA_FORWARDER_TIMEOUT_SECONDS", "0", .invalidDuration),
        ("ELASTIC_APM_LAMBDA_AGENT_DATA_BUFFER_SIZE", "0", .invalidNumber),
        ("ELASTIC_APM_LOG_LEVEL", "loud", .invalidChoice),
        ("ELASTIC_APM_LAMBDA_CAPTURE_LOGS", "maybe", .invalidBool),
        ("ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT", "nope", .invalidBool),
        ("ELASTIC_APM_SERVER_CA_CERT_FILE", "/nonexistent/ca.pem", .unreadableFile),
        ("ELASTIC_APM_LAMBDA_APM_SERVER", "apm.example.com", .invalidURL),
        ("LANTERN_LOG_RETENTION", "-1", .invalidNumber),
        ("LANTERN_LOG_RETENTION", "lots", .invalidNumber),
    ])
    func badValuesNameTheVariable(_ bad: (variable: String, value: String, code: ConfigError.Code)) {
        let (variable, value, code) = bad
        let error = #expect(throws: ConfigError.self) {
            _ = try CollectorConfig.load(environment: [variable: value], arguments: ["x"])
        }
        #expect(error?.code == code)
        #expect(error?.variable == variable)
        #expect(error?.description.contains(value) == true)
    }

    @Test func caCertificateFileIsRead() throws {
        let path = "/tmp/lantern-ca-\(epochMicrosForTests()).pem"
        try writeFile(path, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let config = try CollectorConfig.load(environment: ["ELASTIC_APM_SERVER_CA_CERT_FILE": path], arguments: ["x"])
        #expect(config.serverCACertPEM?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
    }

    @Test("booleans are read exactly as Go's strconv.ParseBool reads them", arguments: [
        ("1", true), ("t", true), ("T", true), ("TRUE", true), ("true", true), ("True", true),
        ("0", false), ("f", false), ("F", false), ("FALSE", false), ("false", false), ("False", false),
    ])
    func goBooleans(text: String, value: Bool) throws {
        let config = try CollectorConfig.load(environment: ["ELASTIC_APM_LAMBDA_CAPTURE_LOGS": text], arguments: ["x"])
        #expect(config.captureLogs == value)
    }

    @Test("what Go's ParseBool refuses is an error", arguments: ["yes", "no", "on", "off", "tRUE", "fAlSe", "2", " true", "true ", "y"])
    func notGoBooleans(text: String) {
        let error = #expect(throws: ConfigError.self) {
            _ = try CollectorConfig.load(environment: ["ELASTIC_APM_LAMBDA_DISABLE_LOGS_API": text], arguments: ["x"])
        }
        #expect(error?.code == .invalidBool)
        #expect(error?.variable == "ELASTIC_APM_LAMBDA_DISABLE_LOGS_API")
    }

    @Test("turning TLS verification off is warned about (stderr and a config_warning event)")
    func verificationOffWarns() throws {
        let off = try CollectorConfig.load(environment: ["ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT": "false"], arguments: ["x"])
        #expect(off.warnings.count == 1)
        #expect(off.warnings.first?.contains("ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT=false") == true)
        #expect(off.warnings.first?.contains("not verified") == true)
        let on = try CollectorConfig.load(environment: ["ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT": "true"], arguments: ["x"])
        #expect(on.warnings.isEmpty)
    }

    @Test("with both the PEM variable and the CA file set, the CAs of both are kept")
    func bothCASourcesAreKept() throws {
        let path = "/tmp/lantern-ca-both-\(epochMicrosForTests()).pem"
        defer { unlink(path) }
        try writeFile(path, "-----BEGIN CERTIFICATE-----\nFROMFILE\n-----END CERTIFICATE-----\n")
        let config = try CollectorConfig.load(environment: [
            "ELASTIC_APM_SERVER_CA_CERT_FILE": path,
            "ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM": "-----BEGIN CERTIFICATE-----\\nFROMVAR\\n-----END CERTIFICATE-----",
        ], arguments: ["x"])
        let pem = try #require(config.serverCACertPEM)
        #expect(pem.contains("FROMVAR") && pem.contains("FROMFILE"), "\(pem)")
        #expect(pem.contains("-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"), "each certificate on its own lines")
    }

    @Test(arguments: [
        ("15s", Duration.seconds(15)), ("500ms", .milliseconds(500)), ("1m30s", .seconds(90)), ("1.5s", .milliseconds(1500)),
        ("2h", .seconds(7200)), ("250us", .microseconds(250)), ("0", .zero),
    ])
    func goDurations(text: String, duration: Duration) {
        #expect(GoDuration.parse(text) == duration)
    }

    @Test(arguments: ["", "15", "s", "1x", "1.2.3s", "m5"])
    func badGoDurations(text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test(arguments: [
        ("trace", Logger.Level.trace), ("DEBUG", .debug), ("info", .info), ("warn", .warning), ("error", .error),
        ("critical", .critical), ("off", .critical),
    ])
    func logLevels(text: String, level: Logger.Level) {
        #expect(CollectorConfig.logLevel(text) == level)
    }

    @Test("a PEM variable's literal \\n become line breaks; other backslashes stay", arguments: [
        ("a\\nb", "a\nb"), ("\\n\\n", "\n\n"), ("a\\", "a\\"), ("a\\tb", "a\\tb"), ("a\\\\nb", "a\\\nb"),
        ("é\\nü", "é\nü"), ("", ""),
    ])
    func escapedNewlines(_ pair: (String, String)) {
        #expect(pair.0.unescapingNewlines() == pair.1)
    }
}
