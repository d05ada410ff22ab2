"""The benchmarks' own machinery, run small: the scale-out launcher and bench.load's options."""
