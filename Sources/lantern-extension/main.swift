// Placeholder until the collector issue lands.
print("lantern-extension")
