"""Writing files: crash-safe writes under one output policy (`atomic`) and the formats other programs read
(`formats`)."""
