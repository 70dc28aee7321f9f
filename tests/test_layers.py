"""The core's layers import only downwards, with no import cycles (DESIGN "Layout").

Read from the source with :mod:`ast`, so nothing is imported: every ``import`` and
``from … import`` of ``gateway`` (at module level, under ``if``/``try``, and inside functions)
is an edge from the importing module to the module it names. Two checks:

* no cycle among the modules' module-level imports (a cycle half-initialises a module);
* a package imports only packages of its own layer or of a layer below it (:data:`LAYERS`).

:data:`LAYERS` is the order the code has. It differs from DESIGN's drawing in one place: the
store sits beneath ``jobs/`` and ``delivery/`` (the claim loop and the delivery kinds are
built on the store's interface; the store knows nothing of them), where DESIGN draws
``store/`` after them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[1] / "gateway"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {"gateway", "errors", "jsontext", "xmlsafe", "resources", "private_files"}
        | {"toml_lines", "bounded_body", "shown_text"}
    ),
    frozenset({"model"}),
    frozenset({"partners"}),
    frozenset({"ingest", "read", "render", "mapping", "convert"}),
    frozenset({"artefacts", "validation", "signing", "policy"}),
    frozenset({"readable", "pint"}),
    frozenset({"flows"}),
    frozenset({"store"}),
    frozenset({"jobs", "delivery"}),
    frozenset({"settings", "service", "testing"}),
    frozenset({"api", "cli", "__main__", "samples"}),
)
"""Bottom first: the top-level parts of ``gateway/`` (sub-packages and modules), by layer."""


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in GATEWAY.rglob("*.py"):
        parts = ["gateway", *path.relative_to(GATEWAY).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The gateway modules one import statement names (a package's own names: the package)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
        return
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - node.level + 1]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    for alias in node.names:
        full = f"{prefix}.{alias.name}"
        if full in MODULES:
            yield full
        elif prefix in MODULES:
            yield prefix


def _imports(module_level_only: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _module_level(tree.body) if module_level_only else ast.walk(tree)
        edges[module] = {
            target
            for node in nodes
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in _targets(module, path, node)
            if target != module
        }
    return edges


def _module_level(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Statements run when the module is imported (descending into ``if`` and ``try``)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _module_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _module_level(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                yield from _module_level(handler.body)


def _part(module: str) -> str:
    """The top-level part of ``gateway/`` a module is in (``gateway`` for the package itself)."""
    return module.split(".")[1] if "." in module else module


def _layer(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"gateway/{part} is in no layer of LAYERS: place it there")


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules on it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_no_module_level_import_cycle() -> None:
    cycle = _cycle(_imports(module_level_only=True))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_part_of_gateway_has_a_layer() -> None:
    for module in MODULES:
        _layer(_part(module))


def test_layers_import_only_downwards() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _imports(module_level_only=False).items()
        for target in targets
        if _layer(_part(target)) > _layer(_part(module))
    )
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_an_upward_import_is_caught() -> None:
    """The check sees a lower layer importing a higher one and a cycle (the check's check)."""
    assert _layer(_part("gateway.store.base")) > _layer(_part("gateway.model.invoice"))
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
