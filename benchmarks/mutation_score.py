"""Benchmark: the gates' mutation score on mutants a real mutation tool generates.

The mutants gate proves the gates kill the bugs this repository wrote for them; this measures
what they catch of bugs nobody chose. cosmic-ray's operators (``pip install cosmic-ray``)
enumerate every mutation of the system under test's services and repositories; a fixed-seed
sample is applied one at a time to a copy of the project (the harness's own mutants
machinery: the working tree is never touched, each copy runs in a warmed child) and the
gates run there. A mutant is killed when any gate goes red. Mutants judged equivalent (no
behaviour can tell them apart) are listed by hand, with the reason, in
``benchmarks/equivalent_mutants.toml`` and left out of the score.

Usage::

    .venv/bin/python benchmarks/mutation_score.py [--sample 80] [--seed 7] [--jobs 2]
        [--gates schema,migrations,smoke,silent,invariants,scenarios,fuzz,bench]
        [--modules app/services,app/repositories]
        [--json reports/out/mutation-score.json]

Prints the score per module and every survivor (module, operator, line, the changed line).
Not a CI step: a sample of 80 takes several minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.config import load_config  # noqa: E402
from harness.db.servers import open_server  # noqa: E402
from harness.mutants import Mutant, Replace  # noqa: E402
from harness.mutants.run import run_mutants  # noqa: E402

EQUIVALENT = ROOT / "benchmarks" / "equivalent_mutants.toml"
# every gate of `harness run` but mutants, the cheap and the strong first: a mutant stops at
# its first kill, so the bench's statement budget runs only for what the others let through
DEFAULT_GATES = "schema,migrations,smoke,silent,invariants,scenarios,fuzz,bench"


@dataclass(frozen=True, slots=True)
class Generated:
    module: str
    operator: str
    occurrence: int
    line: int
    before: str
    after: str
    source: str
    mutated: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.operator}:{self.occurrence}"


def annotation_lines(source: str) -> set[int]:
    """Lines inside type annotations: with ``from __future__ import annotations`` they are
    never evaluated, so a mutation there is equivalent by construction (labelled by rule)."""
    import ast

    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        found: list[ast.AST | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            found.append(node.annotation)
        for ann in found:
            if isinstance(ann, ast.expr):
                lines.update(range(ann.lineno, (ann.end_lineno or ann.lineno) + 1))
    return lines


def generate(modules: list[Path]) -> list[Generated]:
    """Every mutation cosmic-ray's core operators make of ``modules``, but those that only
    touch a type annotation (see :func:`annotation_lines`)."""
    try:
        import cosmic_ray.plugins as plugins
        from cosmic_ray.ast import ast_nodes, get_ast_from_path
        from cosmic_ray.mutating import mutate_code
    except ImportError:
        sys.exit("benchmarks/mutation_score.py needs cosmic-ray: pip install cosmic-ray")
    found: list[Generated] = []
    for path in modules:
        source = path.read_text()
        skip_lines = (
            annotation_lines(source) if "from __future__ import annotations" in source else set()
        )
        tree = get_ast_from_path(path)
        nodes = list(ast_nodes(tree))
        for name in plugins.operator_names():
            cls = plugins.get_operator(name)
            if cls.arguments():
                continue
            operator = cls()
            positions = [start for node in nodes for start, _ in operator.mutation_positions(node)]
            for occurrence, start in enumerate(positions):
                mutated = mutate_code(source, operator, occurrence)
                if mutated is None or mutated == source:
                    continue
                line = start[0]
                in_annotation = line in skip_lines and "|" in source.splitlines()[line - 1]
                if in_annotation and name.startswith("core/ReplaceBinaryOperator_BitOr"):
                    continue
                old = source.splitlines()[line - 1] if line else ""
                new_lines = mutated.splitlines()
                new = new_lines[line - 1] if 0 < line <= len(new_lines) else ""
                found.append(
                    Generated(
                        str(path.relative_to(ROOT)),
                        name,
                        occurrence,
                        line,
                        old.strip(),
                        new.strip(),
                        source,
                        mutated,
                    )
                )
    return found


def equivalent() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text())
    return {e["key"]: e["reason"] for e in data.get("mutant", [])}


def as_mutant(item: Generated, index: int, gates: list[str]) -> Mutant:
    return Mutant(
        id=f"gen-{index:03d}",
        title=f"{item.operator} at {item.module}:{item.line}",
        description=f"{item.before}  →  {item.after}",
        patches=[Replace(item.module, anchor=item.source, replacement=item.mutated)],
        gates=gates,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--gates", default=DEFAULT_GATES)
    parser.add_argument("--modules", default="app/services,app/repositories")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    config = load_config(ROOT / "pyproject.toml")
    gates = [g.strip() for g in args.gates.split(",") if g.strip()]
    modules = sorted(
        p
        for d in args.modules.split(",")
        for p in (ROOT / d.strip()).rglob("*.py")
        if p.name != "__init__.py"
    )
    every = generate(modules)
    skip = equivalent()
    candidates = [g for g in every if g.key not in skip]
    rng = random.Random(args.seed)
    sample = sorted(rng.sample(candidates, min(args.sample, len(candidates))), key=lambda g: g.key)
    sys.stdout.write(
        f"{len(every)} mutants generated in {len(modules)} modules, {len(skip)} labelled "
        f"equivalent; running {len(sample)} (seed {args.seed}) against {', '.join(gates)}\n"
    )
    started = time.perf_counter()
    mutants = [as_mutant(g, i, gates) for i, g in enumerate(sample)]
    with open_server(None) as server:
        server_url = server.admin_url
        outcomes = run_mutants(
            config, mutants, server_url, available=gates, jobs=args.jobs, all_gates=False
        )
    elapsed = time.perf_counter() - started

    killed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    survivors: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    by_gate: Counter[str] = Counter()
    for item, outcome in zip(sample, outcomes, strict=True):
        if outcome.status in ("stale", "broken", "error") and not outcome.killed_by:
            errors.append({"key": item.key, "status": outcome.status, "why": outcome.message})
            continue
        total[item.module] += 1
        if outcome.killed_by:
            killed[item.module] += 1
            by_gate.update(outcome.killed_by)
        else:
            survivors.append(
                {"key": item.key, "line": item.line, "before": item.before, "after": item.after}
            )
    score = sum(killed.values()) / max(sum(total.values()), 1)
    sys.stdout.write(f"\nmutation score {score:.0%} ({sum(killed.values())}/{sum(total.values())})"
                     f" in {elapsed:.0f} s; kills by gate: {dict(by_gate)}\n")  # fmt: skip
    for module in sorted(total):
        sys.stdout.write(f"  {module:45s} {killed[module]:3d}/{total[module]:3d}\n")
    for s in survivors:
        sys.stdout.write(
            f"  survived {s['key']} line {s['line']}: {s['before']}  →  {s['after']}\n"
        )
    for e in errors:
        sys.stdout.write(f"  not judged {e['key']}: {e['status']} {e['why']}\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "score": score,
                    "generated": len(every),
                    "sample": len(sample),
                    "seed": args.seed,
                    "gates": gates,
                    "per_module": {m: [killed[m], total[m]] for m in sorted(total)},
                    "kills_by_gate": dict(by_gate),
                    "survivors": survivors,
                    "not_judged": errors,
                    "seconds": round(elapsed, 1),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
