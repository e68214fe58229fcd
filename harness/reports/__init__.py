"""Report writers shared by the CLI and the pytest plugin."""
