// What the demo prepares before it starts anything: where this `lantern` binary is, a free port,
// and an extensions folder whose `lantern-extension` runs this binary's collector.

import Foundation
import NIOCore
import NIOPosix

/// Small, side-effect-only preparations for `lantern demo`.
enum DemoSetup {
    /// The absolute path of the running `lantern` executable.
    static func lanternExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let argument = CommandLine.arguments[0]
        if argument.hasPrefix("/") { return argument }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(argument).standardized.path
    }

    /// A loopback port that was free a moment ago (bound to port 0, read back, released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        guard let port = channel.localAddress?.port else {
            throw DemoError(.portUnavailable, "could not find a free loopback port")
        }
        return port
    }

    /// Makes `<folder>/extensions/lantern-extension`, a shell wrapper that runs `<lantern> collect` under the
    /// name `lantern-extension` (the Extensions API wants the registered name to match the file name).
    /// With `collector: false` the folder stays empty (the baseline run); with `binary`, that executable (e.g. the
    /// unzipped layer's `extensions/lantern-extension`) is linked in instead of the wrapper.
    static func makeExtensionsFolder(
        in folder: URL, lantern: String, collector: Bool = true, binary: String? = nil
    ) throws -> URL {
        let extensions = folder.appendingPathComponent("extensions")
        try FileManager.default.createDirectory(at: extensions, withIntermediateDirectories: true)
        guard collector else { return extensions }
        let wrapper = extensions.appendingPathComponent("lantern-extension")
        if let binary {
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw DemoError(.badExtension, "--extension \(binary) is not an executable file")
            }
            try FileManager.default.createSymbolicLink(atPath: wrapper.path, withDestinationPath: binary)
            return extensions
        }
        let quoted = "'" + lantern.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        let script = "#!/bin/sh\nLANTERN_EXTENSION_NAME=lantern-extension exec \(quoted) collect \"$@\"\n"
        try Data(script.utf8).write(to: wrapper)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        return extensions
    }
}
