"""Benchmarks that print numbers (pool, orders, search, memory, API); never run by pytest."""
