import Foundation
import LanternStore

#if canImport(Glibc)
import Glibc
#endif

/// The Lantern store of a sandbox whose children run as another user than the emulator (root dropping to the
/// sandbox user). The collector must write it, but the folder the user chose (their working directory, say) is
/// rarely writable by the sandbox user, and SQLite creates `-wal` and `-shm` files beside the store. So the emulator
/// creates the store, gives the three files to the sandbox user and keeps a connection open while it runs: SQLite
/// removes `-wal` and `-shm` only when the last connection closes, which is then the emulator's, as root.
final class SandboxStore {
    let path: String
    private let connection: Connection

    private init(path: String, connection: Connection) {
        self.path = path
        self.connection = connection
    }

    deinit { connection.close() }

    /// The store path the sandbox's collector will use: `LANTERN_DB` as the extensions see it, else `./lantern.db`
    /// when a `lantern-extension` is among them (the collector's default under the emulator). Relative to the
    /// extensions' working directory, the emulator's own.
    static func path(extensionEnvironment: [String: String], extensionNames: [String]) -> String? {
        let configured = extensionEnvironment["LANTERN_DB"].flatMap { $0.isEmpty ? nil : $0 }
        if let configured, ["off", "none"].contains(configured) { return nil }
        guard let path = configured ?? (extensionNames.contains("lantern-extension") ? "lantern.db" : nil) else { return nil }
        return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Makes the store at `path` writable by `user`. Nil (with a note) when that cannot be done: the collector then
    /// reports its own error about the path, which is clearer than ours.
    static func prepare(path: String, for user: SandboxUser, console: Console) -> SandboxStore? {
        let connection: Connection
        do {
            connection = try StoreSchema.openAndKeep(path: path)
        } catch {
            console.note("cannot prepare the store \(path) for the sandbox user (\(user)): \(error.message)")
            return nil
        }
        for file in [path, path + "-wal", path + "-shm"] where access(file, F_OK) == 0 {
            if chown(file, user.uid, user.gid) != 0 {
                console.note("cannot give \(file) to the sandbox user (\(user)): \(String(cString: strerror(errno)))")
            }
        }
        return SandboxStore(path: path, connection: connection)
    }
}
