"""The twin's modules: no import circle (also through imports inside functions), and players that never see the Twin.

Read from the source with `ast`, so an import that only runs inside a function counts as much as one at
the top: a circle there fails at run time, in the middle of a deployment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import greenlight_twin

PACKAGE = Path(greenlight_twin.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = ["greenlight_twin", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def twin_imports() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports (anywhere in its code)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` imports the module; `from module import name`, the module.
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                ]
            else:
                continue
            found |= {target for target in targets if target in modules and target != name}
        graph[name] = found
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (as the modules along it), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_twin_modules_have_no_import_circle() -> None:
    # GIVEN every import of every module of the twin, also those inside functions
    graph = twin_imports()
    assert "greenlight_twin.players.codedeploy" in graph and graph["greenlight_twin.controller"]

    # WHEN / THEN no module reaches itself
    assert cycle_in(graph) is None, " -> ".join(cycle_in(graph) or [])


def test_twin_cycle_finder_finds_a_planted_circle() -> None:
    # GIVEN the real graph with one import added that closes a circle
    graph = twin_imports()
    graph["greenlight_twin.outcome"] = graph["greenlight_twin.outcome"] | {"greenlight_twin.controller"}

    # WHEN / THEN the finder reports it
    found = cycle_in(graph)
    assert found is not None and found[0] == found[-1]


def test_twin_players_never_import_the_twin() -> None:
    # GIVEN the players' imports
    graph = twin_imports()
    players = [name for name in graph if name.startswith("greenlight_twin.players")]

    # WHEN / THEN none imports the Twin (controller) or its configuration: they get a Stage
    assert players
    for name in players:
        assert not graph[name] & {"greenlight_twin.controller", "greenlight_twin.hooks"}, name
