"""Benchmarks: run as ``.venv/bin/python -m bench.<name>``; results go to ``bench/results/``."""
