// Placeholder until the LambdaWire issue lands; replaced by its real sources.
enum LambdaWireModule {}
