// What the Forwarder needs to know: where the APM Server is, how to authenticate and verify it, how
// to batch, how much to hold while it is unreachable, and the Lambda facts for synthesized metadata.

import NIOCore

/// Settings of the Forwarder (built by the collector's configuration from ELASTIC_APM_* variables).
public struct ForwarderConfiguration: Sendable {
    /// Base URL of the APM Server (`ELASTIC_APM_LAMBDA_APM_SERVER`); nil = record only, nothing is sent.
    public var serverURL: String?
    /// `ELASTIC_APM_API_KEY`: `Authorization: ApiKey <key>`; wins over the secret token.
    public var apiKey: String?
    /// `ELASTIC_APM_SECRET_TOKEN`: `Authorization: Bearer <token>`.
    public var secretToken: String?
    /// `ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT` (default true).
    public var verifyServerCert: Bool
    /// `ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM`: extra trusted CA certificates as PEM text.
    public var caCertPEM: String?
    /// `ELASTIC_APM_SERVER_CA_CERT_FILE`: extra trusted CA certificates from a PEM file.
    public var caCertFile: String?
    /// `ELASTIC_APM_SERVER_CA_CERT_ACM_ID`: not supported (no AWS SDK here); logged and recorded when set.
    public var caCertACMID: String?
    /// Upper bound of one send (`ELASTIC_APM_DATA_FORWARDER_TIMEOUT`, default 3 s); the caller's deadline
    /// can only shorten it.
    public var sendTimeout: TimeAmount
    /// A batch is sent once it holds this many events (Elastic: 50).
    public var maxBatchEvents: Int
    /// ... or this many uncompressed bytes.
    public var maxBatchBytes: Int
    /// ... or its oldest event is this old.
    public var maxBatchAge: TimeAmount
    /// Most uncompressed bytes held unsent (pending + failed batches); beyond it data is dropped and counted.
    public var retryBufferBytes: Int
    /// Most events held unsent (pending + failed batches).
    public var retryBufferEvents: Int
    /// How long to wait after failures.
    public var backoff: BackoffPolicy
    /// User-Agent of every request to the APM Server.
    public var userAgent: String
    /// Lambda facts for the synthesized metadata line.
    public var functionName: String?
    public var functionVersion: String?
    public var memoryMB: Int?
    public var region: String?
    public var runtime: String?
    public var logStream: String?
    /// How Lambda initialized the environment and its maximum concurrency (Managed Instances), for the lifecycle
    /// events' labels.
    public var initializationType: String? = nil
    public var maxConcurrency: Int? = nil
    /// The collector's version, the synthesized metadata's `service.agent.version`.
    public var collectorVersion: String

    public init(
        serverURL: String?, apiKey: String? = nil, secretToken: String? = nil, verifyServerCert: Bool = true,
        caCertPEM: String? = nil, caCertFile: String? = nil, caCertACMID: String? = nil,
        sendTimeout: TimeAmount = .seconds(3), maxBatchEvents: Int = 50, maxBatchBytes: Int = 512 * 1024,
        maxBatchAge: TimeAmount = .seconds(2), retryBufferBytes: Int = 4 * 1024 * 1024,
        retryBufferEvents: Int = 5_000, backoff: BackoffPolicy = .elastic, userAgent: String = "lantern-extension",
        functionName: String? = nil, functionVersion: String? = nil, memoryMB: Int? = nil, region: String? = nil,
        runtime: String? = nil, logStream: String? = nil, collectorVersion: String = "0.0.0"
    ) {
        self.serverURL = serverURL.flatMap { $0.isEmpty ? nil : $0 }
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.secretToken = secretToken.flatMap { $0.isEmpty ? nil : $0 }
        self.verifyServerCert = verifyServerCert
        self.caCertPEM = caCertPEM
        self.caCertFile = caCertFile
        self.caCertACMID = caCertACMID
        self.sendTimeout = sendTimeout
        self.maxBatchEvents = max(1, maxBatchEvents)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.maxBatchAge = maxBatchAge
        self.retryBufferBytes = max(0, retryBufferBytes)
        self.retryBufferEvents = max(0, retryBufferEvents)
        self.backoff = backoff
        self.userAgent = userAgent
        self.functionName = functionName
        self.functionVersion = functionVersion
        self.memoryMB = memoryMB
        self.region = region
        self.runtime = runtime
        self.logStream = logStream
        self.collectorVersion = collectorVersion
    }

    /// The `Authorization` header value, if any (ApiKey preferred over Bearer, as Elastic does).
    public var authorization: String? {
        if let apiKey { return "ApiKey \(apiKey)" }
        if let secretToken { return "Bearer \(secretToken)" }
        return nil
    }
}
