"""Gates: each returns a GateResult in the shared shape."""
