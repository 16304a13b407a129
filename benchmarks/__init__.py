"""Benchmarks: each compares against a baseline in the same run; run as python -m benchmarks.<name>."""
