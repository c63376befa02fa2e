#ifndef LANTERN_CSQLITE_SHIM_H
#define LANTERN_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
