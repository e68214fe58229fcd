"""What every command shares: options, error handling, output to stdout/stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError
from harness.logs import configure

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


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every cannot-run condition into one readable line and exit 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        configure(os.environ.get("HARNESS_LOG_LEVEL", "WARNING"))
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except HarnessError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:
            if os.environ.get("HARNESS_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for details)")

    return wrapper


def config_from(path: Path | None) -> HarnessConfig:
    return load_config(path)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def emit_json_doc(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()
