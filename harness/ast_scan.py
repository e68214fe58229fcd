"""Find exception handlers that swallow errors, by reading the source (``ast``), app-agnostic.

Flags, in the given files and (optionally) the modules they import from named packages:

* a bare ``except:`` and ``except Exception`` / ``except BaseException`` (also inside a tuple,
  or any extra class names given) whose body does not re-raise on every path;
* ``with contextlib.suppress(Exception)`` (or ``BaseException``, or an extra name).

A handler "re-raises" when every path through its body ends in ``raise`` (a bare ``raise`` or
``raise Other(...) from exc`` — both surface the failure). Logging and carrying on, returning a
default, ``pass``: all swallow. A deliberate site is allowed with a pragma on its ``except`` or
``with`` line that states why: ``# harness: allow-swallow(reason)``.

Used by the payment-path test (``tests/silent/test_ast_scan.py``) and reusable by the mutants
gate: ``scan_paths(paths, follow=("app",), root=project_root)`` → ``ScanReport``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError
from harness.results import Finding

BROAD = frozenset({"Exception", "BaseException"})
KIND = "swallowed_exception"
_PRAGMA = re.compile(r"#\s*harness:\s*allow-swallow\(\s*([^)]*\S)\s*\)")


@dataclass(frozen=True, slots=True)
class SwallowSite:
    path: Path
    line: int
    function: str | None
    form: str
    source: str
    allowed: str | None = None

    @property
    def where(self) -> str:
        inside = f" in {self.function}()" if self.function else ""
        return f"{self.path}:{self.line}{inside}"

    def to_finding(self) -> Finding:
        return Finding(
            severity="error",
            kind=KIND,
            object=self.where,
            expected="the handler re-raises (or catches a specific error and handles it)",
            actual=self.form,
            hint="let the error propagate, catch the specific exception, or mark a deliberate "
            "site with '# harness: allow-swallow(reason)'",
            message=f"{self.where}: {self.form} swallows every error: {self.source}",
        )


@dataclass(slots=True)
class ScanReport:
    files: list[Path] = field(default_factory=list)
    sites: list[SwallowSite] = field(default_factory=list)

    @property
    def swallowing(self) -> list[SwallowSite]:
        return [s for s in self.sites if s.allowed is None]

    @property
    def allowed(self) -> list[SwallowSite]:
        return [s for s in self.sites if s.allowed is not None]

    def findings(self) -> list[Finding]:
        return [s.to_finding() for s in self.swallowing]


def always_raises(body: Sequence[ast.stmt]) -> bool:
    """True when every path through ``body`` ends in a ``raise``."""
    for stmt in body:
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, ast.Return | ast.Continue | ast.Break):
            return False
        if isinstance(stmt, ast.If) and always_raises(stmt.body) and always_raises(stmt.orelse):
            return True
        if isinstance(stmt, ast.With | ast.AsyncWith) and always_raises(stmt.body):
            return True
        if isinstance(stmt, ast.Try | ast.TryStar):
            if always_raises(stmt.finalbody):
                return True
            completes_raising = always_raises(stmt.body) or always_raises(stmt.orelse)
            if completes_raising and all(always_raises(h.body) for h in stmt.handlers):
                return True
        if isinstance(stmt, ast.Match) and stmt.cases:
            exhaustive = any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None and c.guard is None
                for c in stmt.cases
            )
            if exhaustive and all(always_raises(c.body) for c in stmt.cases):
                return True
    return False


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _broad_names(node: ast.expr | None, broad: frozenset[str]) -> list[str]:
    if node is None:
        return []
    nodes = node.elts if isinstance(node, ast.Tuple) else [node]
    return [n for n in (_name(e) for e in nodes) if n in broad]


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: Path, lines: list[str], broad: frozenset[str]) -> None:
        self.path = path
        self.lines = lines
        self.broad = broad
        self.sites: list[SwallowSite] = []
        self.functions: list[str] = []
        self.suppress_names = {"suppress"}  # `from contextlib import suppress [as x]`

    def _site(self, node: ast.AST, form: str) -> None:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        pragma = _PRAGMA.search(text)
        self.sites.append(
            SwallowSite(
                path=self.path,
                line=line,
                function=".".join(self.functions) or None,
                form=form,
                source=text,
                allowed=pragma.group(1) if pragma else None,
            )
        )

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_ClassDef = _function

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "contextlib":
            for alias in node.names:
                if alias.name == "suppress":
                    self.suppress_names.add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            form = "bare 'except:'"
        else:
            names = _broad_names(node.type, self.broad)
            form = f"'except {', '.join(names)}'" if names else ""
        if form and not always_raises(node.body):
            self._site(node, form)
        self.generic_visit(node)

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            is_suppress = (isinstance(func, ast.Name) and func.id in self.suppress_names) or (
                isinstance(func, ast.Attribute) and func.attr == "suppress"
            )
            if not is_suppress:
                continue
            names = [n for arg in call.args for n in _broad_names(arg, self.broad)]
            if names:
                self._site(node, f"'contextlib.suppress({', '.join(names)})'")
        self.generic_visit(node)

    visit_With = _with
    visit_AsyncWith = _with


def scan_source(source: str, path: Path, *, extra_broad: Iterable[str] = ()) -> list[SwallowSite]:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(f"{path}: cannot parse: {exc.msg} (line {exc.lineno})") from exc
    visitor = _Visitor(path, source.splitlines(), BROAD | frozenset(extra_broad))
    visitor.visit(tree)
    return visitor.sites


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(root: Path, path: Path) -> list[str]:
    try:
        parts = list(path.resolve().relative_to(root.resolve()).with_suffix("").parts)
    except ValueError:
        return []
    return parts[:-1]  # the package a module (or an __init__) belongs to


def imported_modules(path: Path, root: Path, follow: Sequence[str]) -> list[Path]:
    """Files of the modules ``path`` imports from the packages in ``follow`` (under ``root``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    wanted: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(root, path)
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            wanted.append(module)
            wanted += [f"{module}.{alias.name}" for alias in node.names]
    found: list[Path] = []
    for dotted in wanted:
        if dotted.split(".")[0] not in follow:
            continue
        file = _module_file(root, dotted)
        if file is not None and file not in found:
            found.append(file)
    return found


def scan_paths(
    paths: Iterable[Path],
    *,
    follow: Sequence[str] = (),
    root: Path | None = None,
    extra_broad: Iterable[str] = (),
) -> ScanReport:
    """Scan ``paths`` (files, or directories of ``*.py``) and, with ``follow``, every module they
    import (transitively) from those top-level packages, resolved under ``root``."""
    root = (root or Path.cwd()).resolve()
    queue: list[Path] = []
    for path in paths:
        path = path if path.is_absolute() else root / path
        if path.is_dir():
            queue += sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.is_file():
            queue.append(path)
        else:
            raise ConfigError(f"cannot scan {path}: no such file or directory")
    report = ScanReport()
    seen: set[Path] = set()
    extra = tuple(extra_broad)
    while queue:
        path = queue.pop(0).resolve()
        if path in seen:
            continue
        seen.add(path)
        report.files.append(path)
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        report.sites += scan_source(path.read_text(), shown, extra_broad=extra)
        if follow:
            queue += [p for p in imported_modules(path, root, follow) if p.resolve() not in seen]
    return report
