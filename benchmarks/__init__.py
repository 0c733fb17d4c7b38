"""Benchmarks of cgformat against peer tools and floors (not part of the package nor the test run)."""
