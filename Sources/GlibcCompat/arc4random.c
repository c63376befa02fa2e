// The layer links libstdc++ statically (see scripts/package-layer.sh); its std::random_device asks for
// arc4random, which glibc added in 2.36, newer than Lambda's Amazon Linux 2023 (2.34). Defining it here binds
// that reference inside the binary. Nothing in the collector calls it; getrandom(2) is glibc 2.25.
#ifdef __linux__
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

uint32_t arc4random(void) {
    uint32_t value;
    for (;;) {
        if (getrandom(&value, sizeof value, 0) == (ssize_t)sizeof value) return value;
        if (errno != EINTR) abort();  // no kernel entropy interface at all: nothing safe to return
    }
}
#endif
