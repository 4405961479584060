"""The shape of the code: dependencies point one way and no module imports itself back.

The layers are written down in pyproject.toml ([tool.importlinter]): web and cli ->
services -> mail -> calendar -> infrastructure -> models. The contract runs here, so
`make test` and CI fail on an upward import; a copy of the package with one upward
import added shows that it would. Separately, no group of modules may import one
another in a circle, function-level imports included (grimp reads them too).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def lint_imports(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run the import-linter contracts on the `booking` package found in
    `package_parent`, without writing a cache anywhere."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command())",
         "--config", str(CONFIG), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_layers_contract_is_kept(tmp_path):
    result = lint_imports(ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_layers_contract_fails_on_a_new_upward_import(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "booking", copy / "booking", ignore=shutil.ignore_patterns("__pycache__")
    )
    outbox = copy / "booking" / "mail" / "outbox.py"
    outbox.write_text(
        outbox.read_text() + "\nfrom booking.services.errors import DomainError  # noqa\n"
    )
    result = lint_imports(copy, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    assert "booking.mail.outbox -> booking.services.errors" in result.stdout


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of two or more modules that import one another in a circle
    (Tarjan's algorithm, iterative so deep chains do not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    imported = graph.find_modules_directly_imported_by(target)
                    work.append((target, iter(sorted(imported))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_strongly_connected_finds_a_circle():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.d")
    assert strongly_connected(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_import_cycles():
    graph = grimp.build_graph("booking", cache_dir=None)
    cycles = strongly_connected(graph)
    described = []
    for group in cycles:
        there = graph.find_shortest_chain(importer=group[0], imported=group[1]) or ()
        back = graph.find_shortest_chain(importer=group[1], imported=group[0]) or ()
        circle = " -> ".join([*there, *back[1:]])
        described.append(f"{', '.join(group)}\n    e.g. {circle}")
    assert not cycles, "modules importing one another in a circle:\n" + "\n".join(described)
