// Placeholder until the Collector issue lands; replaced by its real sources.
enum CollectorModule {}
