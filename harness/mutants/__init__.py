"""Mutants: known bugs as real code changes to a temporary copy of the project, each run
through the gates in a subprocess, so that the harness shows it can fail.

A project lists its mutants (:class:`Mutant`, made of :class:`Replace` and :class:`AddFile`
patches) in the package named by ``[tool.harness] mutants``; ``load_mutants`` finds them,
``run_mutants`` runs them, ``mutants_result`` makes the kill matrix.
"""

from harness.mutants.model import AddFile, Mutant, MutantDefinitionError, Replace

__all__ = ["AddFile", "Mutant", "MutantDefinitionError", "Replace"]
