// libdeflate (Debian's libdeflate-dev): whole-buffer DEFLATE/gzip decoding for the agents' request bodies.
#include <libdeflate.h>
