"""What every command shares: options, error handling, output to stdout/stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.config import HarnessConfig

P = ParamSpec("P")
R = TypeVar("R")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    markdown = "markdown"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="PostgreSQL: 'embedded' (default), 'docker' or a postgresql:// URL "
        "(default: $HARNESS_DATABASE_URL, else embedded)",
        show_default=False,
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="output format")]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="pyproject.toml holding \\[tool.harness] (default: nearest)"),
]


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"harness: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


_real_stdout: list[TextIO] = []


def real_stdout() -> TextIO:
    """Where the command's own output goes (the process's stdout, whatever user code did)."""
    return _real_stdout[-1] if _real_stdout else sys.stdout


@contextmanager
def stdout_kept() -> Iterator[TextIO]:
    """Keep the real stdout for the harness's own output and point everything else at stderr
    while the command runs: user code that prints, warns or logs to stdout at import time
    (models, app factories, hooks) cannot break a JSON document or a JUnit file. At the file
    descriptor level when stdout is the process's fd 1 (C extensions and subprocesses too)."""
    try:
        is_fd1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        is_fd1 = False
    previous_file = out._file
    if is_fd1:
        sys.stdout.flush()
        saved = os.dup(1)
        real: TextIO = open(saved, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        os.dup2(2, 1)
        _real_stdout.append(real)
        out.file = real
        try:
            yield real
        finally:
            real.flush()
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            _real_stdout.pop()
            out._file = previous_file
        return
    original = sys.stdout
    _real_stdout.append(original)
    out.file = original
    sys.stdout = sys.stderr
    try:
        yield original
    finally:
        sys.stdout = original
        _real_stdout.pop()
        out._file = previous_file


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every cannot-run condition into one readable line and exit 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from harness.logs import configure

        configure(os.environ.get("HARNESS_LOG_LEVEL", "WARNING"))
        with stdout_kept():
            return _guarded(func, *args, **kwargs)

    return wrapper


DISTRIBUTION = "payment-harness"
# the top-level module a command imported -> the extra that installs it
EXTRA_OF = {
    "httpx": "system",
    "starlette": "system",
    "fastapi": "system",
    "uvicorn": "system",
    "respx": "system",
    "faker": "system",
    "schemathesis": "fuzz",
    "hypothesis": "fuzz",
    "uvloop": "bench",
    "matplotlib": "report",
    "jinja2": "report",
    "testcontainers": "docker",
    "docker": "docker",
}


def missing_extra(exc: ModuleNotFoundError, command_extra: str | None = None) -> str | None:
    """``pip install 'payment-harness[fuzz]'``-style advice when an extra's module is absent
    (the command's own extra when known, else the one that installs that module)."""
    top = (exc.name or "").split(".", 1)[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return None
    extra = command_extra or extra
    return (
        f"this command needs the '{extra}' extra ({top} is not installed): "
        f"pip install '{DISTRIBUTION}[{extra}]'"
    )


def _guarded(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    try:
        return func(*args, **kwargs)
    except (typer.Exit, typer.Abort):
        raise
    except HarnessError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:
        advice = missing_extra(exc) if isinstance(exc, ModuleNotFoundError) else None
        if advice is not None:
            fail(advice)
        if os.environ.get("HARNESS_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for details)")


def config_from(path: Path | None) -> HarnessConfig:
    from harness.config import load_config

    return load_config(path)


def emit_json(data: Any) -> None:
    stream = real_stdout()
    stream.write(json.dumps(data, default=str) + "\n")
    stream.flush()


def emit_json_doc(data: Any) -> None:
    stream = real_stdout()
    stream.write(json.dumps(data, indent=2, default=str) + "\n")
    stream.flush()
