// The forwarder to an https APM Server: a real TLS server on loopback with a self-signed certificate that
// `openssl` makes for the test, trusted through ELASTIC_APM_SERVER_CA_CERT_FILE / _CA_CERT (PEM with literal
// "\n"), refused without it, accepted with ELASTIC_APM_VERIFY_SERVER_CERT=false.

import Collector
import Foundation
import LanternStore
import Logging
import NIOCore
import NIOSSL
import Testing
import TestSupport

@Suite("Forwarder over TLS", .serialized)
struct TLSForwardingTests {
    /// A certificate for 127.0.0.1 and its key, in a fresh folder.
    struct SelfSigned {
        var folder: URL
        var certificatePath: String { folder.appendingPathComponent("cert.pem").path }
        var keyPath: String { folder.appendingPathComponent("key.pem").path }

        static func make(commonName: String = "lantern-test") throws -> SelfSigned {
            let folder = try TestPaths.temporaryDirectory("tls")
            let made = SelfSigned(folder: folder)
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(commonName)",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", made.keyPath, "-out", made.certificatePath,
            ]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            try #require(openssl.terminationStatus == 0, "openssl could not make a certificate")
            return made
        }

        func serverContext() throws -> NIOSSLContext {
            try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .file(keyPath)))
        }
    }

    func forwarder(url: String, verify: Bool = true, caFile: String? = nil, caPEM: String? = nil) -> Forwarder {
        var logger = Logger(label: "test.tls")
        logger.logLevel = .critical
        return Forwarder(
            configuration: ForwarderConfiguration(
                serverURL: url, verifyServerCert: verify, caCertPEM: caPEM, caCertFile: caFile, sendTimeout: .seconds(3),
                backoff: quickBackoff(), functionName: "fn", functionVersion: "$LATEST", memoryMB: 128,
                region: "eu-west-1", runtime: "python3.12", logStream: "s", collectorVersion: "0.1.0"),
            recorder: nil, environmentID: "env-tls", logger: logger)
    }

    /// One batch through `forwarder`; the outcome and the transport's last error.
    func send(_ forwarder: Forwarder) async -> (FlushOutcome?, String?) {
        await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.transaction(id: "t1", requestID: "r1")]))
        let outcome = await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + .seconds(5))
        let error = await forwarder.health.lastError
        await forwarder.shutdown(deadline: .now() + .seconds(1))
        return (outcome, error)
    }

    @Test func trustedThroughTheCAFileTheBatchGoesOut() async throws {
        let certificate = try SelfSigned.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let server = try await ScriptedServer(behaviour: .answer, tls: try certificate.serverContext())
        let (outcome, error) = await send(forwarder(url: "https://127.0.0.1:\(server.port)", caFile: certificate.certificatePath))
        #expect(outcome == .sent, "\(error ?? "")")
        #expect(server.connections == 1)
        await server.close()
    }

    @Test func trustedThroughPEMTextWithLiteralNewlines() async throws {
        let certificate = try SelfSigned.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let server = try await ScriptedServer(behaviour: .answer, tls: try certificate.serverContext())
        // An environment variable cannot hold newlines; Elastic accepts "\n" sequences instead.
        let pem = try String(contentsOfFile: certificate.certificatePath, encoding: .utf8).replacingOccurrences(of: "\n", with: "\\n")
        let (outcome, error) = await send(forwarder(url: "https://127.0.0.1:\(server.port)", caPEM: pem))
        #expect(outcome == .sent, "\(error ?? "")")
        await server.close()
    }

    @Test func anUntrustedCertificateIsRefusedWithAClearError() async throws {
        let certificate = try SelfSigned.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let server = try await ScriptedServer(behaviour: .answer, tls: try certificate.serverContext())
        let (outcome, error) = await send(forwarder(url: "https://127.0.0.1:\(server.port)"))
        #expect(outcome == .failed)
        #expect(error?.lowercased().contains("certificate") == true, "\(error ?? "no error")")
        await server.close()
    }

    @Test("with both ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM and ELASTIC_APM_SERVER_CA_CERT_FILE, either CA is trusted")
    func bothCASourcesAreTrusted() async throws {
        let served = try SelfSigned.make(commonName: "served")
        let other = try SelfSigned.make(commonName: "other")
        defer {
            try? FileManager.default.removeItem(at: served.folder)
            try? FileManager.default.removeItem(at: other.folder)
        }
        let server = try await ScriptedServer(behaviour: .answer, tls: try served.serverContext())
        // The server's CA once in the file (the PEM variable holds another CA), once in the PEM variable.
        for (file, text) in [(served, other), (other, served)] {
            let pem = try String(contentsOfFile: text.certificatePath, encoding: .utf8).replacingOccurrences(of: "\n", with: "\\n")
            let config = try CollectorConfig.load(environment: [
                "ELASTIC_APM_SERVER_CA_CERT_FILE": file.certificatePath, "ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM": pem,
            ], arguments: ["x"])
            let (outcome, error) = await send(forwarder(url: "https://127.0.0.1:\(server.port)", caPEM: config.serverCACertPEM))
            #expect(outcome == .sent, "CA of the server in \(file.certificatePath == served.certificatePath ? "the file" : "the PEM"): \(error ?? "")")
        }
        await server.close()
    }

    /// Whether this host has IPv6 (IPv4-mapped addresses reach the IPv4 loopback server through it).
    static let hasIPv6 = FileManager.default.fileExists(atPath: "/proc/net/if_inet6")
        && ((try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8))?.isEmpty == false)

    @Test("an IPv6 literal with letters is not sent as TLS server name (NIOSSL would refuse every connection)",
          .enabled(if: TLSForwardingTests.hasIPv6))
    func ipv6LiteralIsNoServerName() async throws {
        let certificate = try SelfSigned.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let server = try await ScriptedServer(behaviour: .answer, tls: try certificate.serverContext())
        // ::ffff:7f00:1 is 127.0.0.1 mapped into IPv6, written with hex letters.
        let (outcome, error) = await send(forwarder(url: "https://[::ffff:7f00:1]:\(server.port)", verify: false))
        #expect(outcome == .sent, "\(error ?? "")")
        #expect(error?.contains("Server Name Indication") != true, "\(error ?? "")")
        await server.close()
    }

    @Test func verificationOffAcceptsAnyCertificate() async throws {
        let certificate = try SelfSigned.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let server = try await ScriptedServer(behaviour: .answer, tls: try certificate.serverContext())
        let (outcome, error) = await send(forwarder(url: "https://127.0.0.1:\(server.port)", verify: false))
        #expect(outcome == .sent, "\(error ?? "")")
        await server.close()
    }
}
