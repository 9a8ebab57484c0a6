"""The maintainers' benchmarks, each run as a script (``.venv/bin/python benchmarks/decode_benchmark.py``); no lesson
imports them."""
