"""Scrubbing a capture: which columns hold personal data, and their deterministic pseudonyms.

A column is classified by the project's rules first (``[tool.harness.capture] scrub``, fnmatch
patterns over ``table.column`` or ``schema.table.column`` to a kind, ``keep`` to leave it),
then by its type and name: ``inet``/``cidr`` and ``*ip*`` names are IPs, ``*email*`` emails,
``*password*`` password hashes, tokens, signatures, secrets and keys are secrets, phones,
addresses, people's names and free text. Numbers, booleans, dates, times, uuids and anything
not classified are kept — money, statuses, ids, timestamps and foreign keys join and compare
as they did. Every other text value (and every string inside JSON) is still swept: an email
or an IP address inside it is replaced the same way.

A pseudonym is a function of the kind and the value under a key (HMAC-SHA256): the same
email is the same pseudonym in every table and row of one capture, so rows still join, and a
different key (by default a fresh random one per capture, never stored) gives unlinkable
pseudonyms. Faker, seeded by that hash, makes them look like what they replace.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from harness.capture.graph import Column, Graph, Table

KEEP = "keep"

# types never personal in themselves (their values are kept as they are)
KEPT_TYPES = {
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
    "money",
    "boolean",
    "date",
    "interval",
    "uuid",
    "oid",
}
KEPT_PREFIXES = ("timestamp", "time ")
TEXT_TYPES = {"text", "character varying", "character", "citext", "name", "varchar", "char"}
JSON_TYPES = {"json", "jsonb"}

PERSON_TABLES = {
    "user",
    "users",
    "customer",
    "customers",
    "person",
    "people",
    "persons",
    "contact",
    "contacts",
    "member",
    "members",
    "account",
    "accounts",
    "employee",
    "employees",
    "profile",
    "profiles",
    "client",
    "clients",
    "patient",
    "patients",
    "subscriber",
    "subscribers",
    "author",
    "authors",
}
NAME_COLUMNS = {
    "first_name",
    "last_name",
    "full_name",
    "display_name",
    "given_name",
    "family_name",
    "surname",
    "middle_name",
    "nickname",
    "contact_name",
    "customer_name",
    "billing_name",
    "shipping_name",
    "owner_name",
    "holder_name",
    "cardholder_name",
    "firstname",
    "lastname",
    "fullname",
}
USERNAME_COLUMNS = {"username", "user_name", "login", "handle", "screen_name"}
TEXT_COLUMNS = {
    "notes",
    "note",
    "comment",
    "comments",
    "bio",
    "about",
    "message",
    "body",
    "remarks",
    "feedback",
    "memo",
}
ADDRESS_WORDS = {
    "address",
    "addr",
    "street",
    "city",
    "zip",
    "zipcode",
    "postcode",
    "postal",
    "pincode",
    "line1",
    "line2",
    "address1",
    "address2",
}
SECRET_WORDS = {
    "token",
    "secret",
    "signature",
    "sig",
    "apikey",
    "otp",
    "salt",
    "nonce",
    "cookie",
    "session",
    "cvv",
    "cvc",
    "iban",
    "ssn",
    "aadhaar",
    "passport",
    "jwt",
    "hmac",
    "credential",
    "credentials",
}
SECRET_PAIRS = {
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("card", "number"),
    ("tax", "id"),
    ("pan", "number"),
}

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
IPV4_RE = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
IPV6_RE = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![0-9A-Fa-f:])"
)
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def kind_by_name(name: str, table: str = "") -> str | None:
    """The kind a column (or a JSON key) named ``name`` holds, by its name alone."""
    words = _words(name)
    joined = "_".join(words)
    pairs = set(itertools.pairwise(words))
    if not words:
        return None
    if any("email" in w or w == "mail" for w in words):
        return "email"
    if any(w in ("password", "passwd", "pwd", "passphrase") for w in words):
        return "password"
    if "ip" in words or joined in ("ipaddr", "ip_addr", "remote_addr", "remote_address"):
        return "ip"
    if SECRET_WORDS & set(words) or pairs & SECRET_PAIRS:
        return "secret"
    if any(w in ("phone", "mobile", "telephone", "tel", "msisdn", "fax", "cell") for w in words):
        return "phone"
    if ADDRESS_WORDS & set(words):
        return "address"
    if joined in NAME_COLUMNS:
        return "name"
    if joined in USERNAME_COLUMNS:
        return "username"
    if joined == "name" and table.lower() in PERSON_TABLES:
        return "name"
    if joined in TEXT_COLUMNS:
        return "text"
    return None


def column_kinds(
    graph: Graph, tables: Sequence[str], rules: Mapping[str, str]
) -> dict[str, dict[str, str | None]]:
    """Each column's kind, table by table. A foreign key column takes the kind of the column
    it references, through any chain of foreign keys (an email key stays an email on both
    sides, an id stays an id), so that scrubbed rows still join."""
    references = {
        (fk.child, child_col): (fk.parent, parent_col)
        for fk in graph.foreign_keys
        for child_col, parent_col in zip(fk.child_columns, fk.parent_columns, strict=True)
    }

    def kind_of(table: str, column: str, seen: frozenset[tuple[str, str]]) -> str | None:
        target = references.get((table, column))
        if target is not None and target not in seen:
            return kind_of(*target, seen | {target})
        return classify(graph.tables[table], graph.tables[table].columns[column], rules)

    return {
        key: {
            name: kind_of(key, name, frozenset({(key, name)})) for name in graph.tables[key].columns
        }
        for key in tables
    }


def classify(table: Table, column: Column, rules: Mapping[str, str]) -> str | None:
    """The kind of ``column`` (None: kept as it is, apart from the sweep of text values)."""
    for pattern, kind in rules.items():
        if fnmatch.fnmatchcase(f"{table.name}.{column.name}", pattern) or fnmatch.fnmatchcase(
            f"{table.key}.{column.name}", pattern
        ):
            return None if kind == KEEP else kind
    base = column.base_type.removesuffix("[]")
    if base in ("inet", "cidr"):
        return "ip"
    if base in KEPT_TYPES or base.startswith(KEPT_PREFIXES) or base in JSON_TYPES:
        return None
    if base not in TEXT_TYPES and base != "bytea":
        return None  # enums and other types: kept (statuses, currencies)
    return kind_by_name(column.name, table.name)


@dataclass(slots=True)
class Scrubber:
    """Replaces values by deterministic pseudonyms under ``key``; remembers what it did."""

    key: bytes
    columns: dict[str, str] = field(default_factory=dict)  # "schema.table.column" -> kind
    swept: dict[str, int] = field(default_factory=dict)  # "schema.table.column" -> values
    _faker: Any = None

    def __post_init__(self) -> None:
        self._faker = Faker("en_US")

    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()

    def _seeded(self, digest: bytes) -> Any:
        self._faker.seed_instance(int.from_bytes(digest[:8], "big"))
        return self._faker

    def pseudonym(self, kind: str, value: str, max_length: int | None = None) -> str:
        digest = self._digest(kind, value)
        fake = self._seeded(digest)
        tag = digest.hex()[:6]
        if kind == "email":
            made = f"{fake.user_name()}.{tag}@example.com"
        elif kind == "name":
            made = str(fake.name())
        elif kind == "username":
            made = f"{fake.user_name()}_{tag}"
        elif kind == "phone":
            made = _same_shape_digits(value, digest)
        elif kind == "address":
            made = str(fake.street_address())
        elif kind == "ip":
            made = _ip(value, digest)
        elif kind == "password":
            made = f"scrubbed-password:{digest.hex()[:32]}"
        elif kind == "secret":
            made = _same_shape_secret(value, self.key, kind)
        else:  # free text
            words = max(1, min(40, len(value.split())))
            made = str(fake.sentence(nb_words=words)).rstrip(".")
        if max_length is not None and len(made) > max_length:
            made = made[:max_length]
        return made

    def sweep_text(self, value: str) -> tuple[str, int]:
        """``value`` with the emails, IP addresses and JWTs inside replaced; how many."""
        count = 0

        def swap(kind: str) -> Any:
            def replace(match: re.Match[str]) -> str:
                nonlocal count
                count += 1
                return self.pseudonym(kind, match.group(0))

            return replace

        value = EMAIL_RE.sub(swap("email"), value)
        value = JWT_RE.sub(swap("secret"), value)
        value = IPV4_RE.sub(swap("ip"), value)
        if ":" in value:
            value = IPV6_RE.sub(
                lambda m: m.group(0) if _looks_like_time(m.group(0)) else swap("ip")(m), value
            )
        return value, count

    def scrub_json(self, value: Any, kind_here: str | None = None) -> tuple[Any, int]:
        """A JSON document with personal values replaced (keys classified by name)."""
        if isinstance(value, dict):
            total = 0
            out: dict[str, Any] = {}
            for k, v in value.items():
                out[k], n = self.scrub_json(v, kind_by_name(str(k)))
                total += n
            return out, total
        if isinstance(value, list):
            items = [self.scrub_json(v, kind_here) for v in value]
            return [i for i, _ in items], sum(n for _, n in items)
        if isinstance(value, str):
            if kind_here is not None:
                return self.pseudonym(kind_here, value), 1
            return self.sweep_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and kind_here == "phone":
            return int(self.pseudonym("phone", str(value))), 1
        return value, 0

    def scrub_rows(
        self, table: Table, rows: Sequence[dict[str, Any]], kinds: Mapping[str, str | None]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for row in rows:
            new: dict[str, Any] = {}
            for name, value in row.items():
                column = table.columns.get(name)
                kind = kinds.get(name)
                where = f"{table.key}.{name}"
                if value is None or column is None:
                    new[name] = value
                elif kind is not None:
                    new[name] = self._scrub_value(kind, value, column.max_length)
                    self.columns[where] = kind
                elif column.base_type in JSON_TYPES or isinstance(value, dict | list):
                    new[name], n = self.scrub_json(value)
                    if n:
                        self.swept[where] = self.swept.get(where, 0) + n
                elif isinstance(value, str) and column.base_type.removesuffix("[]") in TEXT_TYPES:
                    new[name], n = self.sweep_text(value)
                    if n:
                        self.swept[where] = self.swept.get(where, 0) + n
                else:
                    new[name] = value
            out.append(new)
        return out

    def _scrub_value(self, kind: str, value: Any, max_length: int | None) -> Any:
        if isinstance(value, list):
            return [self._scrub_value(kind, v, max_length) for v in value]
        if not isinstance(value, str):
            return value
        return self.pseudonym(kind, value, max_length)

    def report(self, key_given: bool) -> dict[str, Any]:
        return {
            "enabled": True,
            "key": "given (--scrub-key / HARNESS_CAPTURE_KEY): pseudonyms repeat across captures"
            if key_given
            else "random for this capture and not stored: pseudonyms cannot be linked to others",
            "columns": dict(sorted(self.columns.items())),
            "swept": dict(sorted(self.swept.items())),
        }


def _looks_like_time(text: str) -> bool:
    return all(part.isdigit() and len(part) <= 2 for part in text.split(":") if part)


def _stream(key: bytes, label: str, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hmac.new(key, f"{label}\x00{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return out[:size]


def _same_shape_digits(value: str, digest: bytes) -> str:
    stream = _stream(digest, "digits", len(value))
    return "".join(str(b % 10) if ch.isdigit() else ch for ch, b in zip(value, stream, strict=True))


HEX = "0123456789abcdef"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _same_shape_secret(value: str, key: bytes, kind: str) -> str:
    """Same length and character class (hex stays hex), derived from the value under the key."""
    stream = _stream(key, f"{kind}\x00{value}", len(value))
    out = []
    for ch, b in zip(value, stream, strict=True):
        if ch in HEX:
            out.append(HEX[b % 16])
        elif ch in HEX.upper():
            out.append(HEX.upper()[b % 16])
        elif ch.isalnum():
            out.append(ALNUM[b % len(ALNUM)])
        else:
            out.append(ch)
    made = "".join(out)
    return made if made != value else "x" + made[1:]


def _ip(value: str, digest: bytes) -> str:
    address, slash, mask = value.partition("/")
    if ":" in address:
        made = "2001:db8:" + ":".join(f"{digest[i]:02x}{digest[i + 1]:02x}" for i in (0, 2, 4))
        made += "::" + f"{digest[6]:x}"
    else:
        made = f"10.{digest[0]}.{digest[1]}.{digest[2] % 254 + 1}"
    return made + (slash + mask if slash else "")
