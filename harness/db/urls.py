"""Small helpers for PostgreSQL URLs: parse, replace the database, hide secrets."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

from harness.errors import ConfigError

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


def is_postgres_url(value: str) -> bool:
    return value.split("://", 1)[0] in SCHEMES and "://" in value


def validate_url(url: str) -> str:
    """Return ``url`` in plain ``postgresql://`` form or raise ConfigError naming the problem."""
    if not is_postgres_url(url):
        raise ConfigError(
            f"not a database URL: {redact(url)!r} (expected postgresql://user@host:port/dbname, "
            "'embedded' or 'docker')"
        )
    parts = urlsplit(url)
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"malformed database URL {redact(url)!r}: {exc}") from exc
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError(f"malformed database URL {redact(url)!r}: no host")
    return urlunsplit(("postgresql", *parts[1:]))


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(dbname), parts.query, ""))


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "postgres"


def to_async(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql+psycopg", *parts[1:]))


def to_sync(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def redact(url: str) -> str:
    """Hide the password of a URL, for messages and logs."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = (parts.username or "") + ":***"
    return urlunsplit((parts.scheme, f"{userinfo}@{netloc[-1]}", parts.path, parts.query, ""))
