// Placeholder until the Dashboard issue lands; replaced by its real sources.
enum DashboardModule {}
