// Nothing to import: the target only supplies symbols (see hypotf.c) so the layer binary loads on older glibc.
