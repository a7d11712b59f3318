"""Benchmarks: `make bench` prints one table. Figures, not assertions."""
