// README.md's first code block is the project's promise: the commands there are the ones CI runs,
// and the ones a user types work.

import Foundation
import Testing
import TestSupport

@Suite("README commands")
struct DemoReadmeTests {
    /// The command lines of README.md's first fenced code block, comments removed.
    private func readmeCommands() throws -> [String] {
        let readme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        guard let open = lines.firstIndex(where: { $0.hasPrefix("```") }),
            let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else { throw DemoTestFailure("README.md has no code block") }
        return lines[(open + 1)..<close].map(Self.command).filter { !$0.isEmpty }
    }

    /// The commands `.ci/run` runs (no comments, no `set`/`cd` plumbing).
    private func ciCommands() throws -> [String] {
        let script = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        return script.split(separator: "\n").map(Self.command)
            .filter { !$0.isEmpty && !$0.hasPrefix("set ") && !$0.hasPrefix("cd ") }
    }

    private static func command<S: StringProtocol>(_ line: S) -> String {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return code.trimmingCharacters(in: .whitespaces)
    }

    @Test("README's first code block has the demo and the test command, and CI runs the test command")
    func ciRunsTheReadmeTestCommand() throws {
        let readme = try readmeCommands()
        let ci = try ciCommands()
        #expect(readme == ["swift run lantern demo", "scripts/test"], "\(readme)")
        #expect(ci.contains("scripts/test"), "\(ci)")
        for command in ci {
            #expect(readme.contains(command), "CI runs '\(command)', which README.md's first code block does not show")
        }
        let testScript = TestPaths.packageRoot.appendingPathComponent("scripts/test").path
        #expect(FileManager.default.isExecutableFile(atPath: testScript))
    }

    @Test("the README's `lantern` commands exist in the built binary")
    func readmeLanternCommandsExist() async throws {
        for command in try readmeCommands() where command.hasPrefix("swift run lantern ") {
            let words = command.split(separator: " ").dropFirst(3).map(String.init)
            let result = try await DemoChild.run(TestPaths.binary("lantern"), words + ["--help"], timeout: .seconds(60))
            #expect(result.status == 0, "`lantern \(words.joined(separator: " ")) --help` failed: \(result.stderr)")
            #expect(result.stdout.contains("USAGE: lantern \(words.joined(separator: " "))"), "\(result.stdout)")
        }
    }
}
