#if canImport(Glibc)
import Glibc
#endif

/// The user the runtime and the extensions run as. Lambda never runs them as root: a socket option, a path or a
/// file mode that only works for root fails there, so the emulator drops root the same way (uid 993 / gid 990,
/// as AWS's RIE does in its Managed Instances mode) unless told to keep it.
public struct SandboxUser: Sendable, Equatable, CustomStringConvertible {
    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// AWS's RIE's sandbox user. Nothing is created in /etc: the ids need no passwd entry.
    public static let lambda = SandboxUser(uid: 993, gid: 990)

    /// Who the children run as when the emulator is started by `effectiveUID`: the sandbox user for root (unless
    /// `keepRoot`), else nil, meaning "as the emulator's own user" (an ordinary user cannot switch users anyway).
    public static func forEmulator(effectiveUID: uid_t = geteuid(), keepRoot: Bool) -> SandboxUser? {
        effectiveUID == 0 && !keepRoot ? .lambda : nil
    }

    public var description: String { "uid \(uid) / gid \(gid)" }

    /// util-linux's `setpriv`, which runs a program as another user.
    static let setprivPath: String? = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv", "/sbin/setpriv"]
        .first { access($0, X_OK) == 0 }

    /// setpriv's options for this user: real and effective ids, no supplementary groups (root's would stay).
    var setprivArguments: [String] { ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups"] }

    /// Whether this user may run `path`: every folder above it searchable and the file executable by them.
    func canExecute(_ path: String) -> Bool {
        var folder = ""
        for part in path.split(separator: "/").dropLast() {
            folder += "/" + part
            guard searchable(folder) else { return false }
        }
        return searchable(path)
    }

    /// The execute (search, for a folder) bit that applies to this user: owner's, else group's, else other's.
    private func searchable(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        if info.st_uid == uid { return info.st_mode & S_IXUSR != 0 }
        if info.st_gid == gid { return info.st_mode & S_IXGRP != 0 }
        return info.st_mode & S_IXOTH != 0
    }
}
