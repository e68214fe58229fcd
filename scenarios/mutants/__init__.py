"""This app's mutants: the 2025-01-15 incident's bug and its relatives, as real code changes.

Each module defines ``MUTANT`` (``harness.mutants.Mutant``): anchored replacements in ``app/``
(and new files), the gates to run against the mutated copy, the scenarios to replay there, and
which gates must each catch it. ``harness mutants`` applies them to a temporary copy — never
to the working tree — and prints the kill matrix.
"""

# the order of the kill matrix: the incident first, then its relatives
ORDER = [
    "wrong_plan_model",
    "status_column",
    "swallowed_provider_error",
    "float_money",
    "non_idempotent_verify",
    "signature_not_checked",
    "provisioning_in_request",
    "extra_query_in_verify",
    "servers_of_all_users",
]
