"""Silent-failure detection: database errors the code under test caught and never surfaced."""

from harness.silent.detector import (
    EXPECTED_OPTION,
    AllowRule,
    SilentFailureDetector,
    SwallowedDatabaseError,
)
from harness.silent.records import DbErrorRecord, ScopeRecord, StatementRecord

__all__ = [
    "EXPECTED_OPTION",
    "AllowRule",
    "DbErrorRecord",
    "ScopeRecord",
    "SilentFailureDetector",
    "StatementRecord",
    "SwallowedDatabaseError",
]
