// The layer's SQLite (scripts/package-layer.sh): Debian's libsqlite3.a registers FTS3/4, FTS5 and R*Tree in every
// connection through these three functions, which pulls their objects (~0.3 MB of code) into the binary and runs
// their set-up at each open. The store uses none of them, so the layer's copy of the archive drops those members
// and carries these instead. `lantern` (the CLI, the dashboard, `import`) keeps Debian's full SQLite.
typedef struct sqlite3 sqlite3;

int sqlite3Fts3Init(sqlite3 *db) { (void)db; return 0; }   /* SQLITE_OK: nothing registered */
int sqlite3Fts5Init(sqlite3 *db) { (void)db; return 0; }
int sqlite3RtreeInit(sqlite3 *db) { (void)db; return 0; }
