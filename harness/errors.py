"""Errors that mean "the harness cannot run" (CLI exit 2, one readable line)."""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every cannot-run condition. ``str(err)`` is the one line shown to the user."""


class ConfigError(HarnessError):
    """The harness configuration or a user-supplied file is unusable."""


class DatabaseUnavailable(HarnessError):
    """No PostgreSQL server could be reached or started."""


class DockerUnavailable(DatabaseUnavailable):
    """``--db docker`` was asked for but no Docker engine answers."""
