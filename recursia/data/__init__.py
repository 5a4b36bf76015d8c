"""Data: the on-disk dataset format, the seeded sampler and the augmentation protocol."""
