"""Benchmarks, imported by nothing: each prints what it measured, as ratios against a baseline
run in the same process."""
