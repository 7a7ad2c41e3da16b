"""Benchmarks of the load path, the metrics and the pages (scripts, not tests)."""
