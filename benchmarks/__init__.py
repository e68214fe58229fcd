"""This app's benchmarks: the workload the harness bench drives, and pytest-benchmark files."""
