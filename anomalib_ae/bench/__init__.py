"""The benchmark harness as library code."""
