import Foundation
import Testing
@testable import LanternStore

#if canImport(Glibc)
import Glibc
#endif

@Suite("The store file the writer creates")
struct StoreFileTests {
    @Test("a symbolic link at the store path is refused and its target is left alone")
    func symlinkRefused() async throws {
        let path = try StoreFixtures.storePath("linked")
        let target = path + ".target"
        #expect(FileManager.default.createFile(atPath: target, contents: Data("keep".utf8)))
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let error = #expect(throws: StoreError.self) { try Recorder(path: path, options: StoreFixtures.quietOptions()) }
        #expect(error?.code == .cannotOpen)
        #expect(error?.message.contains("symbolic link") == true)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
    }

    @Test("a new store gets its mode from the user's umask")
    func umaskDecidesMode() async throws {
        let path = try StoreFixtures.storePath("private")
        let old = umask(0o077)
        defer { umask(old) }
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        await recorder.close()
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0)
    }
}
