import Foundation

/// Reads a process tree's memory from /proc: the peak resident set (VmHWM) of the runtime and its descendants,
/// summed, which is what Lambda's "Max Memory Used" measures for the environment.
enum MemorySampler {
    /// Sum of VmHWM (kB) over `pid` and every live descendant; 0 when /proc has nothing for it.
    static func treePeakKB(root pid: Int32) -> Int {
        var total = 0
        var seen = Set<Int32>()
        var stack = [pid]
        while let next = stack.popLast(), seen.insert(next).inserted {
            total += peakKB(of: next)
            stack.append(contentsOf: children(of: next))
        }
        return total
    }

    /// VmHWM of one process in kB.
    static func peakKB(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.dropFirst(6).filter(\.isNumber)
            return Int(digits) ?? 0
        }
        return 0
    }

    /// Direct children, from every thread's `children` file (threads can be parents too).
    static func children(of pid: Int32) -> [Int32] {
        let taskDir = "/proc/\(pid)/task"
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: taskDir) else { return [] }
        var result: [Int32] = []
        for tid in tids {
            guard let text = try? String(contentsOfFile: "\(taskDir)/\(tid)/children", encoding: .utf8) else { continue }
            result += text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return result
    }

    /// kB to whole MB, rounded up (Lambda never reports less than was used).
    static func megabytes(kilobytes: Int) -> Int { (kilobytes + 1023) / 1024 }
}
