"""Benchmarks: not part of the test run. See bench/README.md."""
