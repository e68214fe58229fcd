"""Small helpers for PostgreSQL URLs: parse, replace the database, hide secrets."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from harness.errors import ConfigError

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
# any SQLAlchemy driver a project's settings may name: postgresql+asyncpg://, +pg8000, …
_SCHEME = re.compile(r"^(?:postgres|postgresql)(?:\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
_KEYWORD_DSN = re.compile(r"^\s*[A-Za-z_]+\s*=")
# query parameters only a Python driver understands (libpq refuses unknown ones)
_DRIVER_ONLY = frozenset(
    {
        "prepared_statement_cache_size",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "command_timeout",
        "server_settings",
        "ssl_context",
        "timeout",
        "async_fallback",
        "driver",
        "executemany_mode",
        "use_native_hstore",
        "unix_sock",
    }
)
_SSL = {"true": "require", "1": "require", "false": "disable", "0": "disable"}


def is_postgres_url(value: str) -> bool:
    """A URL in any PostgreSQL form a project may already have (see :func:`normalize_url`)."""
    text = value.strip()
    if _SCHEME.match(text):
        return True
    return "://" not in text and bool(_KEYWORD_DSN.match(text)) and "=" in text


def _from_keywords(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception as exc:  # noqa: BLE001 - psycopg's parse error, said in one line
        raise ConfigError(f"malformed connection string: {str(exc).splitlines()[0]}") from None
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", ""), safe="")
    auth = user + (":" + quote(password, safe="") if password is not None else "")
    netloc = ""
    if host and not host.startswith("/") and "," not in host:
        netloc = host + (f":{port}" if port else "")
    else:
        if host:
            params["host"] = host
        if port:
            params["port"] = port
        netloc = "localhost" if not host else ""
    if auth:
        netloc = f"{auth}@{netloc}"
    query = urlencode(params)
    return f"postgresql://{netloc}/{dbname}" + (f"?{query}" if query else "")


def normalize_url(value: str) -> str:
    """Any PostgreSQL URL a project already has, as the plain libpq URL the harness uses:
    ``postgres://``, ``postgresql+psycopg://``, ``+psycopg2://``, ``+asyncpg://``,
    ``+pg8000://`` and libpq ``key=value`` strings; asyncpg's ``ssl=`` becomes ``sslmode=``
    and driver-only parameters are dropped."""
    text = value.strip()
    if "://" not in text and _KEYWORD_DSN.match(text):
        return _from_keywords(text)
    match = _SCHEME.match(text)
    if match is None:
        return text
    parts = urlsplit("postgresql://" + text[match.end() :])
    query: list[tuple[str, str]] = []
    for key, val in parse_qsl(parts.query, keep_blank_values=True):
        if key in _DRIVER_ONLY:
            continue
        if key == "ssl":
            key, val = "sslmode", _SSL.get(val.lower(), val)
        query.append((key, val))
    rest = urlencode(query)
    return f"postgresql://{parts.netloc}{parts.path}" + (f"?{rest}" if rest else "")


def validate_url(url: str) -> str:
    """Return ``url`` in plain ``postgresql://`` form or raise ConfigError naming the problem."""
    if is_postgres_url(url):
        url = normalize_url(url)
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
    return url


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
