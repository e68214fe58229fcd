"""Schema-contract and regression harness: an app-agnostic core, a CLI and a pytest plugin."""

__version__ = "0.1.0"
