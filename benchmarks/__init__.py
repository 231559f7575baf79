"""The benchmarks: each a module, run as `python -m benchmarks.NAME` (what `python3 tasks.py bench NAME` does)."""
