#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer's checks on the store file itself, before SQLite opens it: SQLite follows a symbolic link and
/// opens a file someone else made, which in a shared folder such as `/tmp` lets another local user read or
/// redirect the store. The file is created here (the user's umask decides its mode) without following a link.
enum StoreFile {
    static func prepareForWriting(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP {
                throw StoreError(code: .cannotOpen, message: "cannot open \(path): it is a symbolic link; Lantern writes its store only to a regular file (remove the link or set LANTERN_DB to another path)")
            }
            throw StoreError(code: .cannotOpen, message: "cannot open \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(code: .cannotOpen, message: "cannot open \(path): not a regular file")
        }
        let me = geteuid()
        // Root may write any user's store (e.g. one the emulator's sandbox user made); nobody else writes a store
        // another user owns, since that user could read everything recorded in it.
        if me != 0, info.st_uid != me {
            throw StoreError(code: .cannotOpen, message: "cannot use \(path): it belongs to uid \(info.st_uid), not to this user (uid \(me)); another user may have made it, so Lantern does not write to it (set LANTERN_DB to a path of your own)")
        }
    }
}
