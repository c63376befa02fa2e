// Placeholder until the Emulator issue lands; replaced by its real sources.
enum EmulatorModule {}
