@testable import Collector
import Testing

#if canImport(Glibc)
import Glibc
#endif

func epochMicrosForTests() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
}

struct WriteError: Error {}

func writeFile(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "wb") else { throw WriteError() }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw WriteError() }
}

@Suite struct LogLevelTests {
    @Test(arguments: [
        ("[ERROR]\t2026-11-25T10:00:00.000Z\tid\tboom", "error"),
        ("[INFO]\tstarted", "info"),
        ("[WARNING] careful", "warn"),
        (#"{"level":"DEBUG","message":"m"}"#, "debug"),
        (#"{"log.level":"error"}"#, "error"),
        (#"{"levelname":"CRITICAL"}"#, "fatal"),
        (#"  {"severity":"info"}"#, "info"),
    ])
    func parsed(line: String, level: String) {
        #expect(LogLevel.parse(line) == level)
    }

    @Test(arguments: ["plain text", "[not a level] x", "{broken json", #"{"msg":"no level"}"#, ""])
    func notParsed(line: String) {
        #expect(LogLevel.parse(line) == nil)
    }
}

@Suite struct SandboxHostTests {
    @Test func findsTheSandboxAddressInAHostsFile() {
        let hosts = """
        127.0.0.1 localhost
        # 10.0.0.1 sandbox.localdomain (commented out)
        169.254.100.1\tsandbox.localdomain sandbox
        """
        #expect(SandboxHost.address(in: hosts) == "169.254.100.1")
    }

    @Test func fallsBackToLoopback() {
        #expect(SandboxHost.address(in: "127.0.0.1 localhost\n::1 localhost\n") == nil)
        #expect(SandboxHost.bindAddress(hostsFile: "/nonexistent/hosts") == "127.0.0.1")
    }
}

@Suite struct RandomUUIDTests {
    @Test func isAVersion4UUIDInLowerCase() {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<String>()
        for _ in 0..<200 {
            let id = RandomUUID.make(using: &generator)
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36)
            #expect([8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") }, "\(id)")
            #expect(bytes[14] == UInt8(ascii: "4"), "\(id)")
            #expect("89ab".utf8.contains(bytes[19]), "\(id)")
            #expect(bytes.enumerated().allSatisfy { [8, 13, 18, 23].contains($0.offset) || "0123456789abcdef".utf8.contains($0.element) })
            seen.insert(id)
        }
        #expect(seen.count == 200)
    }
}
