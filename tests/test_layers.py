"""The package's layers: an import only goes down the list below, so there is no cycle.

Parsed from the source (every `import`, at the top of a module or inside a function), not run.
A module may import any module above it in LAYERS, never one below it or in its own row.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fmhelpers"

# from the ground up; each row one layer (modules in the same row do not import each other)
LAYERS = [
    ["_checks"],                                    # input checks and devices
    ["distributions"],                              # the maths of the pair: pi_0 and pi_1,
    ["interpolants"],                               #   the path and its conversions,
    ["marginal", "solvers"],                        #   the exact field, the ODE solvers
    ["models"],                                     # learning: the networks,
    ["targets", "couplings"],                       #   what they regress on, how pairs are drawn,
    ["recipes"],                                    #   every choice of a run,
    ["training"],                                   #   the one loop
    ["reflow", "meanflow", "likelihood", "guidance", "discrete", "digits"],  # methods (discrete flows on the grid), and
                                                    # real data (the digits and their judge)
    ["metrics", "plotting", "widgets", "checkpoints"],  # tools that look at results
    ["exercises"],
    ["__init__"],
]
RANK = {module: rank for rank, row in enumerate(LAYERS) for module in row}


def _imports(path: Path) -> set[str]:
    """The fmhelpers modules `path` imports (relative imports and `fmhelpers.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found |= {n.split(".")[0] for n in names}
            elif node.module and node.module.startswith("fmhelpers."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("fmhelpers.")}
    return found


def test_every_module_has_a_layer():
    assert {p.stem for p in PACKAGE.glob("*.py")} == set(RANK)


def test_imports_only_go_down():
    upward = []
    for path in sorted(PACKAGE.glob("*.py")):
        for target in _imports(path):
            if RANK[target] >= RANK[path.stem] and path.stem != "__init__":
                upward.append(f"{path.stem} (layer {RANK[path.stem]}) imports {target} (layer {RANK[target]})")
    assert upward == []


def test_the_check_would_catch_an_upward_import(tmp_path):
    bad = tmp_path / "solvers.py"
    bad.write_text("from .training import fit\n\ndef f():\n    from .marginal import marginal_velocity\n")
    assert _imports(bad) == {"training", "marginal"}
    assert RANK["training"] > RANK["solvers"]
