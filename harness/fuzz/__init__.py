"""Fuzzing the app with schemathesis plus the project's domain checks after every call.

``run_fuzz(config, database_url, FuzzOptions(...))`` returns the ``fuzz`` GateResult; the
project describes itself in a :class:`FuzzContract` named by ``[tool.harness] fuzz``.
"""

from harness.fuzz.contract import (
    CheckCall,
    DomainCheck,
    FuzzContract,
    FuzzEnv,
    FuzzSetup,
    Identity,
    load_contract,
)
from harness.fuzz.run import DEFAULT_MAX_EXAMPLES, GATE, FuzzOptions, run_fuzz

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "GATE",
    "CheckCall",
    "DomainCheck",
    "FuzzContract",
    "FuzzEnv",
    "FuzzOptions",
    "FuzzSetup",
    "Identity",
    "load_contract",
    "run_fuzz",
]
