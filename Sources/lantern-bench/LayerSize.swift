// The layer's size: with `--package-layer`, what scripts/package-layer.sh builds (static Swift stdlib,
// -Osize, stripped, zipped); otherwise the stripped size of the release `lantern-extension` next to
// `lantern-bench` (dynamic Swift stdlib, so smaller than the real layer's binary), plus the zip of a
// previous package-layer run if `dist/` has one.

import Foundation

/// Sizes of the collector binary and layer.
struct LayerSize: Sendable, Codable {
    var builtBytes: Int?
    var strippedBytes: Int?
    var zipBytes: Int?
    /// The layer's unstripped binary (same code as the zip's), when the layer was built here.
    var builtPath: String?
    /// What the figures are of.
    var note: String

    static func measure(packageLayer: Bool, zip: String? = nil) throws -> LayerSize {
        if let zip { return try unpacked(zip) }
        if packageLayer {
            // Its own scratch path, so the layer's flags do not rebuild the release build next to lantern-bench.
            let output = try runTool("/usr/bin/env", ["SCRATCH_PATH=.build-layer", "/bin/bash", "scripts/package-layer.sh"])
            func bytes(_ prefix: String) -> Int? {
                guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
                      let open = line.lastIndex(of: "(") else { return nil }
                return Int(line[line.index(after: open)...].prefix { $0.isNumber })
            }
            let built = output.split(separator: "\n").first { $0.hasPrefix("package-layer: built") }
                .flatMap { $0.split(separator: " ").dropFirst(2).first.map(String.init) }
            return LayerSize(
                builtBytes: bytes("package-layer: built"), strippedBytes: bytes("package-layer: stripped"),
                zipBytes: bytes("package-layer: layer"), builtPath: built,
                note: "scripts/package-layer.sh: --static-swift-stdlib, -Osize, --gc-sections, no export-dynamic, ICF, no-PIE, stripped, zip -9")
        }
        let binaries = try BenchBinaries.locate()
        let stripped = NSTemporaryDirectory() + "lantern-bench-strip-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: stripped) }
        _ = try runTool("/usr/bin/strip", ["-o", stripped, binaries.collector])
        var zip: Int?
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "dist"),
           let name = entries.first(where: { $0.hasPrefix("lantern-extension-") && $0.hasSuffix(".zip") }) {
            zip = fileSize("dist/" + name)
        }
        return LayerSize(
            builtBytes: fileSize(binaries.collector), strippedBytes: fileSize(stripped), zipBytes: zip,
            note: "release lantern-extension as built by swift build -c release (dynamic Swift stdlib), stripped"
                + (zip == nil ? "; no dist/ zip (run scripts/package-layer.sh or pass --package-layer)" : "; zip from dist/"))
    }

    /// A layer zip as deployed: unzipped into a temporary folder that stays for the memory benchmark.
    static func unpacked(_ zip: String) throws -> LayerSize {
        let folder = NSTemporaryDirectory() + "lantern-bench-layer-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try runTool("/usr/bin/env", ["python3", "-c", """
            import os, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                for info in z.infolist():
                    z.extract(info, sys.argv[2])
                    os.chmod(os.path.join(sys.argv[2], info.filename), (info.external_attr >> 16) & 0o777 or 0o644)
            """, zip, folder])
        let binary = folder + "/extensions/lantern-extension"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchFailure("\(zip) has no executable extensions/lantern-extension")
        }
        return LayerSize(
            builtBytes: nil, strippedBytes: fileSize(binary), zipBytes: fileSize(zip), builtPath: binary,
            note: "the layer zip \(zip) (scripts/package-layer.sh), unzipped; memory measured on its binary")
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }
}

/// Runs a tool to completion; returns its stdout and stderr; throws when it fails.
func runTool(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw BenchFailure("\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text.suffix(2000))")
    }
    return text
}

/// The machine the figures come from.
struct MachineInfo: Sendable, Codable {
    var cores: Int
    var cpuModel: String
    var kernel: String
    var swiftVersion: String

    static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let swift = ((try? runTool("/usr/bin/env", ["swift", "--version"])) ?? "unknown")
            .split(separator: "\n").first.map(String.init) ?? "unknown"
        return MachineInfo(cores: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model, kernel: kernel, swiftVersion: swift)
    }
}
