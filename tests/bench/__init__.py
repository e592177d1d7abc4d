"""Benchmarks (`make bench`) and the bulk data they and the bounded-memory tests share."""
