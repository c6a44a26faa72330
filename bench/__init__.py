"""Benchmarks and the loopback Discord harness they share with the tests."""
