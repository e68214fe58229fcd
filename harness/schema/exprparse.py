"""A small parser for the SQL expressions found in constraints, defaults and indexes.

It understands what PostgreSQL prints back (``pg_get_expr``, ``pg_get_indexdef``) and what
SQLAlchemy compiles: literals, columns, calls, casts, arrays, CASE, the usual operators with
PostgreSQL's precedence, ``IN``, ``BETWEEN``, ``LIKE``, ``IS [NOT] …``, ``op ANY/ALL (…)``.
Anything else raises :class:`ParseError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A node is a nested tuple: ("col", name), ("str", text), ("num", text), ("bool", "true"),
# ("null",), ("func", name, args), ("op", op, left, right), ("pre", op, operand),
# ("and", items), ("or", items), ("not", x), ("in", x, items, negated), ("array", items),
# ("any", op, quantifier, left, right), ("isnull", x, negated), ("is", x, what, negated),
# ("distinct", a, b, negated), ("case", operand, whens, else_), ("cast", x, type),
# ("sub", x, index), ("row", items), ("collate", x, name), ("attz", x, zone).
Node = tuple[object, ...]


class ParseError(ValueError):
    """The text is outside the expression grammar understood here."""


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<estr>[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<id>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
  | (?P<op>::|<>|!=|<=|>=|!~~\*|!~~|~~\*|~~|!~\*|!~|~\*|\|\|/|\|\||->>|->|\#>>|\#>|@>|<@|
          \?\||\?&|&&|<<|>>|-\|-|[-+*/%^<>=~!@\#&|?])
  | (?P<punct>[()\[\],.;])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "str" | "qid" | "num" | "id" | "op" | "punct" | "end"
    value: str

    def is_kw(self, *words: str) -> bool:
        return self.kind == "id" and self.value.lower() in words


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "ws":
            continue
        if kind == "str":
            tokens.append(_Token("str", value[1:-1].replace("''", "'")))
        elif kind == "estr":
            tokens.append(_Token("str", _unescape(value[2:-1])))
        elif kind == "qid":
            tokens.append(_Token("qid", value[1:-1].replace('""', '"')))
        else:
            tokens.append(_Token(kind, value))
    tokens.append(_Token("end", ""))
    return tokens


def _unescape(body: str) -> str:
    mapping = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(mapping.get(nxt, nxt))
            i += 2
        elif ch == "'" and body[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# Binding powers (PostgreSQL's operator precedence, low to high).
_BP_OR, _BP_AND, _BP_NOT, _BP_IS, _BP_CMP, _BP_LIKE, _BP_OTHER = 10, 20, 30, 40, 50, 60, 70
_BP_ADD, _BP_MUL, _BP_AT, _BP_POW, _BP_UNARY, _BP_SUB, _BP_CAST = 80, 90, 95, 100, 110, 120, 130

_CMP_OPS = {"=", "<>", "!=", "<", ">", "<=", ">="}
_ADD_OPS = {"+", "-"}
_MUL_OPS = {"*", "/", "%"}
_VALUE_FUNCS = {
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "current_role",
    "current_catalog",
    "current_schema",
    "user",
}
_TYPE_WORDS = {"varying", "precision", "with", "without", "time", "zone"}
_INTERVAL_FIELDS = {"year", "month", "day", "hour", "minute", "second", "to"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    # -- token helpers -------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, kind: str, value: str | None = None) -> _Token:
        tok = self.take()
        if tok.kind != kind or (value is not None and tok.value.lower() != value):
            raise ParseError(f"expected {value or kind}, got {tok.value!r}")
        return tok

    def expect_kw(self, word: str) -> None:
        if not self.take().is_kw(word):
            raise ParseError(f"expected {word.upper()}")

    def at_punct(self, value: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.value == value

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek().kind != "end":
            raise ParseError(f"trailing input at {self.peek().value!r}")
        return node

    def expr(self, rbp: int) -> Node:
        left = self.prefix()
        while self.infix_bp() > rbp:
            left = self.infix(left)
        return left

    def infix_bp(self) -> int:
        tok = self.peek()
        if tok.kind == "op":
            if tok.value == "::":
                return _BP_CAST
            if tok.value in _CMP_OPS:
                return _BP_CMP
            if tok.value in _ADD_OPS:
                return _BP_ADD
            if tok.value in _MUL_OPS:
                return _BP_MUL
            if tok.value == "^":
                return _BP_POW
            return _BP_OTHER
        if tok.kind == "punct" and tok.value == "[":
            return _BP_SUB
        if tok.kind != "id":
            return 0
        word = tok.value.lower()
        if word == "or":
            return _BP_OR
        if word == "and":
            return _BP_AND
        if word in ("is", "isnull", "notnull"):
            return _BP_IS
        if word in ("in", "between", "like", "ilike", "similar"):
            return _BP_LIKE
        if word == "not" and self.peek(1).is_kw("in", "between", "like", "ilike", "similar"):
            return _BP_LIKE
        if word in ("collate", "at"):
            return _BP_AT
        return 0

    def prefix(self) -> Node:
        tok = self.take()
        if tok.kind == "str":
            return ("str", tok.value)
        if tok.kind == "num":
            return ("num", tok.value)
        if tok.kind == "qid":
            return self.name_or_call(tok.value)
        if tok.kind == "op" and tok.value in ("-", "+"):
            operand = self.expr(_BP_UNARY)
            return ("pre", tok.value, operand)
        if tok.kind == "punct" and tok.value == "(":
            first = self.expr(0)
            if self.at_punct(","):
                items = [first]
                while self.at_punct(","):
                    self.take()
                    items.append(self.expr(0))
                self.expect("punct", ")")
                return ("row", tuple(items))
            self.expect("punct", ")")
            return first
        if tok.kind != "id":
            raise ParseError(f"unexpected {tok.value!r}")
        word = tok.value.lower()
        if word == "not":
            return ("not", self.expr(_BP_NOT))
        if word in ("true", "false"):
            return ("bool", word)
        if word == "null":
            return ("null",)
        if word == "array":
            return self.array()
        if word == "case":
            return self.case()
        if word == "cast":
            self.expect("punct", "(")
            inner = self.expr(0)
            self.expect_kw("as")
            type_name = self.type_name()
            self.expect("punct", ")")
            return ("cast", inner, type_name)
        if word == "extract" and self.at_punct("("):
            self.take()
            field = self.take()
            if field.kind not in ("id", "str"):
                raise ParseError("expected an EXTRACT field")
            self.expect_kw("from")
            source = self.expr(0)
            self.expect("punct", ")")
            return ("func", "extract", (("str", field.value.lower()), source))
        if word in ("exists", "select", "any", "all", "some"):
            raise ParseError(f"unsupported {word.upper()}")
        if word in _VALUE_FUNCS and not self.at_punct("("):
            return ("func", word, ())
        if self.peek().kind == "str" and word in ("interval", "timestamp", "date", "time"):
            literal = self.take().value
            return ("cast", ("str", literal), word)
        return self.name_or_call(word)

    def name_or_call(self, first: str) -> Node:
        parts = [first]
        while self.at_punct(".") and self.peek(1).kind in ("id", "qid"):
            self.take()
            nxt = self.take()
            parts.append(nxt.value if nxt.kind == "qid" else nxt.value.lower())
        if self.at_punct("("):
            self.take()
            args: list[Node] = []
            if self.peek().kind == "op" and self.peek().value == "*":
                self.take()
                args.append(("star",))
            elif not self.at_punct(")"):
                if self.peek().is_kw("distinct"):
                    raise ParseError("unsupported DISTINCT in call")
                args.append(self.expr(0))
                while self.at_punct(","):
                    self.take()
                    args.append(self.expr(0))
            self.expect("punct", ")")
            name = parts[-1] if len(parts) == 1 or parts[0] == "pg_catalog" else ".".join(parts)
            return ("func", name, tuple(args))
        return ("col", parts[-1])

    def array(self) -> Node:
        self.expect("punct", "[")
        items: list[Node] = []
        if not self.at_punct("]"):
            items.append(self.array_item())
            while self.at_punct(","):
                self.take()
                items.append(self.array_item())
        self.expect("punct", "]")
        return ("array", tuple(items))

    def array_item(self) -> Node:
        if self.at_punct("["):  # nested ARRAY[[1, 2], [3, 4]]
            return self.array()
        return self.expr(0)

    def case(self) -> Node:
        operand: Node | None = None
        if not self.peek().is_kw("when"):
            operand = self.expr(0)
        whens: list[tuple[Node, Node]] = []
        while self.peek().is_kw("when"):
            self.take()
            cond = self.expr(0)
            self.expect_kw("then")
            whens.append((cond, self.expr(0)))
        else_: Node | None = None
        if self.peek().is_kw("else"):
            self.take()
            else_ = self.expr(0)
        self.expect_kw("end")
        return ("case", operand, tuple(whens), else_)

    def type_name(self) -> str:
        tok = self.take()
        if tok.kind not in ("id", "qid"):
            raise ParseError("expected a type name")
        words = [tok.value if tok.kind == "qid" else tok.value.lower()]
        while self.at_punct(".") and self.peek(1).kind in ("id", "qid"):
            self.take()
            nxt = self.take()
            words[-1] += "." + (nxt.value if nxt.kind == "qid" else nxt.value.lower())
        is_interval = words[0] == "interval"
        while True:
            nxt = self.peek()
            if self.at_punct("("):
                self.take()
                args = [self.take().value]
                while self.at_punct(","):
                    self.take()
                    args.append(self.take().value)
                self.expect("punct", ")")
                words[-1] += "(" + ",".join(args) + ")"
            elif nxt.kind == "id" and (
                nxt.value.lower() in _TYPE_WORDS
                or (is_interval and nxt.value.lower() in _INTERVAL_FIELDS)
            ):
                words.append(self.take().value.lower())
            else:
                break
        name = " ".join(words)
        while self.at_punct("["):
            self.take()
            if self.peek().kind == "num":
                self.take()
            self.expect("punct", "]")
            name += "[]"
        return name

    def infix(self, left: Node) -> Node:
        tok = self.take()
        if tok.kind == "op":
            if tok.value == "::":
                return ("cast", left, self.type_name())
            op = "<>" if tok.value == "!=" else tok.value
            bp = self.bp_of_op(op)
            if self.peek().is_kw("any", "some", "all") and self.peek(1).value == "(":
                quantifier = "all" if self.take().value.lower() == "all" else "any"
                self.expect("punct", "(")
                right = self.expr(0)
                self.expect("punct", ")")
                return ("any", op, quantifier, left, right)
            return ("op", op, left, self.expr(bp))
        if tok.kind == "punct" and tok.value == "[":
            index = self.expr(0)
            if self.peek().kind == "punct" and self.peek().value == ":":
                raise ParseError("unsupported array slice")
            self.expect("punct", "]")
            return ("sub", left, index)
        word = tok.value.lower()
        if word == "or":
            return ("or", (left, self.expr(_BP_OR)))
        if word == "and":
            return ("and", (left, self.expr(_BP_AND)))
        if word == "isnull":
            return ("isnull", left, False)
        if word == "notnull":
            return ("isnull", left, True)
        if word == "is":
            return self.is_clause(left)
        if word == "collate":
            name = self.take()
            return ("collate", left, name.value)
        if word == "at":
            self.expect_kw("time")
            self.expect_kw("zone")
            return ("attz", left, self.expr(_BP_AT))
        negated = False
        if word == "not":
            negated = True
            word = self.take().value.lower()
        if word == "in":
            self.expect("punct", "(")
            items = [self.expr(0)]
            while self.at_punct(","):
                self.take()
                items.append(self.expr(0))
            self.expect("punct", ")")
            return ("in", left, tuple(items), negated)
        if word == "between":
            if self.peek().is_kw("symmetric", "asymmetric"):
                raise ParseError("unsupported BETWEEN SYMMETRIC")
            low = self.expr(_BP_LIKE)
            self.expect_kw("and")
            high = self.expr(_BP_LIKE)
            if negated:
                return ("or", (("op", "<", left, low), ("op", ">", left, high)))
            return ("and", (("op", ">=", left, low), ("op", "<=", left, high)))
        if word in ("like", "ilike"):
            pattern = self.expr(_BP_LIKE)
            if self.peek().is_kw("escape"):
                raise ParseError("unsupported ESCAPE")
            op = {"like": "~~", "ilike": "~~*"}[word]
            return ("op", ("!" + op) if negated else op, left, pattern)
        if word == "similar":
            self.expect_kw("to")
            pattern = self.expr(_BP_LIKE)
            call: Node = ("func", "similar_to_escape", (pattern,))
            return ("op", "!~" if negated else "~", left, call)
        raise ParseError(f"unexpected {word.upper()}")

    def bp_of_op(self, op: str) -> int:
        if op in _CMP_OPS:
            return _BP_CMP
        if op in _ADD_OPS:
            return _BP_ADD
        if op in _MUL_OPS:
            return _BP_MUL
        if op == "^":
            return _BP_POW
        return _BP_OTHER

    def is_clause(self, left: Node) -> Node:
        negated = False
        if self.peek().is_kw("not"):
            self.take()
            negated = True
        tok = self.take()
        word = tok.value.lower() if tok.kind == "id" else ""
        if word == "null":
            return ("isnull", left, negated)
        if word in ("true", "false", "unknown"):
            return ("is", left, word, negated)
        if word == "distinct":
            self.expect_kw("from")
            return ("distinct", left, self.expr(_BP_IS), negated)
        raise ParseError("unsupported IS clause")


def parse(text: str) -> Node:
    """Parse ``text`` into a raw tree; raises :class:`ParseError`."""
    return _Parser(text).parse()
