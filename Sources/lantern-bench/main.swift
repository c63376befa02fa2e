// Placeholder until the benchmark issue lands.
print("lantern-bench")
