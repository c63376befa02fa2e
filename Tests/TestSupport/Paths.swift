import Foundation

/// Where the tests find the package, its built binaries and the Python test peers.
public enum TestPaths {
    /// The package root (the folder with Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The debug build folder that `swift build` / `swift test` fill.
    public static var buildDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["LANTERN_BUILD_DIR"] { return URL(fileURLWithPath: dir) }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    /// A built executable of this package, e.g. `lantern` or `lantern-extension`.
    public static func binary(_ name: String) -> URL { buildDirectory.appendingPathComponent(name) }

    /// The venv's Python with awslambdaric, elastic-apm and jsonschema (made by scripts/test).
    public static var python: URL {
        if let path = ProcessInfo.processInfo.environment["LANTERN_TEST_PYTHON"] { return URL(fileURLWithPath: path) }
        return packageRoot.appendingPathComponent(".build/venv/bin/python")
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory(_ label: String = "lantern-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
