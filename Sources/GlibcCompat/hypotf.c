// glibc 2.35 gave hypotf a new symbol version (GLIBC_2.35). The Swift runtime's Glibc overlay references it,
// so a layer linked on a newer glibc would not load on Lambda's Amazon Linux 2023 runtimes (glibc 2.34).
// Defining it here binds that reference inside the binary; the collector never calls it in practice.
#ifdef __linux__
#include <math.h>

float hypotf(float x, float y) {
    // Squares of floats cannot overflow a double; C99 wants an infinite side to win over NaN.
    if (isinf(x) || isinf(y)) return INFINITY;
    double dx = (double)x, dy = (double)y;
    return (float)sqrt(dx * dx + dy * dy);
}
#endif
