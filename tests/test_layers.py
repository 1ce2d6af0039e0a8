"""The import rule of ARCHITECTURE.md, read from the source (ast), not from a running import.

Layers, lowest first: base (results, argument checks, log-space formulas, constants, toys),
integrate (knows no densities), densities, theory (divergences, value, discriminator, closed
forms, Monte Carlo, coverage), training, claims, and the leaves (CLI, plotting, bench, the
package's facade ``gan_theory/__init__.py``). A module may import modules of its own layer or
lower ones, never a higher one; and never another package's private module or private name
(a name with a leading underscore), except the version file that the build reads.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "gan_theory"

#: Layer of each module or package (the longest matching prefix wins), lowest first.
LAYERS = {
    "gan_theory._version": 0, "gan_theory.checks": 0, "gan_theory.results": 0, "gan_theory.logspace": 0,
    "gan_theory.constants": 0, "gan_theory.toys": 0,
    "gan_theory.integrate": 1,
    "gan_theory.densities": 2,
    "gan_theory.divergences": 3, "gan_theory.value": 3, "gan_theory.discriminator": 3, "gan_theory.closed_forms": 3,
    "gan_theory.montecarlo": 3, "gan_theory.coverage": 3, "gan_theory._overflow": 3,
    "gan_theory.training": 4,
    "gan_theory.claims": 5,
    "gan_theory.cli": 6, "gan_theory.__main__": 6, "gan_theory.plotting": 6, "gan_theory.bench": 6, "gan_theory": 6,
}
NAMES = ["base", "integrate", "densities", "theory", "training", "claims", "leaves"]
#: Private modules any module may import: hatch reads the version from this file (pyproject).
SHARED_PRIVATE = {"gan_theory._version"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_of(mod: str, path: Path) -> str:
    return mod if path.name == "__init__.py" else mod.rpartition(".")[0]


def layer(mod: str) -> int:
    best = None
    for prefix in LAYERS:
        if (mod == prefix or mod.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    if best is None:
        raise AssertionError(f"{mod} is in no layer: add it to LAYERS in tests/test_layers.py and ARCHITECTURE.md")
    return LAYERS[best]


def is_module(name: str) -> bool:
    p = ROOT / Path(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def imports(path: Path, text: str | None = None):
    """(imported module, imported names or None, line) for every import of gan_theory in the
    file (or in ``text``, as if it were that file), at any depth (imports inside functions
    count)."""
    mod = module_name(path)
    pkg = package_of(mod, path)
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gan_theory":
                    yield a.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "gan_theory":
                continue
            names = [a.name for a in node.names]
            # `from pkg import submodule` imports the submodule
            subs = [n for n in names if is_module(f"{target}.{n}")]
            for n in subs:
                yield f"{target}.{n}", None, node.lineno
            rest = [n for n in names if n not in subs]
            if rest:
                yield target, rest, node.lineno


def private_parts(mod: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in mod.split("."))


def violations(paths, text: str | None = None) -> list[str]:
    out = []
    for path in paths:
        mod = module_name(path)
        pkg = package_of(mod, path)
        own = layer(mod)
        for target, names, line in imports(path, text):
            where = f"{path.relative_to(ROOT)}:{line}"
            if layer(target) > own:
                out.append(f"{where}: {mod} ({NAMES[own]}) imports {target} ({NAMES[layer(target)]}), a higher layer")
            target_pkg = target if (ROOT / Path(*target.split(".")) / "__init__.py").exists() \
                else target.rpartition(".")[0]
            if private_parts(target) and target not in SHARED_PRIVATE and target_pkg != pkg:
                out.append(f"{where}: {mod} imports {target}, a private module of another package")
            if names and target_pkg != pkg:
                bad = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if bad:
                    out.append(f"{where}: {mod} imports the private name(s) {bad} from {target}")
    return out


def test_package_follows_the_import_rule():
    found = violations(sorted(PKG.rglob("*.py")))
    assert not found, "\n".join(found)


def test_every_module_has_a_layer():
    for path in PKG.rglob("*.py"):
        layer(module_name(path))


def test_integrate_imports_no_densities():
    for path in (PKG / "integrate").rglob("*.py"):
        for target, _, line in imports(path):
            assert layer(target) <= 1 or target == "gan_theory.integrate", (path, line, target)
            assert not target.startswith("gan_theory.densities"), (path, line, target)


@pytest.mark.parametrize("source, text", [
    # a lower layer importing a higher one
    ("gan_theory/integrate/bad.py", "from ..densities import as_density\n"),
    ("gan_theory/densities/bad.py", "from ..divergences import jsd\n"),
    ("gan_theory/training/bad.py", "from ..claims import CLAIMS\n"),
    ("gan_theory/logspace_bad.py", "import gan_theory.training\n"),
    # another package's private module or name
    ("gan_theory/training/bad.py", "from ..integrate.refine import _label\n"),
    ("gan_theory/claims/bad.py", "from ..training import rundir\nfrom ..training.trainer import _F64\n"),
    ("gan_theory/claims/bad.py", "from ..densities import _made_up\n"),
])
def test_the_rule_catches_planted_violations(monkeypatch, source, text):
    # The checker itself: each planted import, read as if it were the named file (nothing is
    # written), is reported; a checker that passed everything would pass the tests above.
    if "logspace_bad" in source:
        monkeypatch.setitem(LAYERS, "gan_theory.logspace_bad", 0)
    assert violations([ROOT / source], text), source
    # and the same file with an allowed import is not
    assert not violations([ROOT / source], "from gan_theory.results import AccuracyError\n"), source


def test_every_third_party_import_is_a_runtime_dependency():
    # What the package imports (at any depth: `gan-theory check` imports sympy inside a claim)
    # must be installed by `pip install gan-theory`, not only by the test extra.
    import re
    import sys
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = {re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in meta["project"]["dependencies"]}
    missing = set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
            for n in names:
                top = n.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("gan_theory", "__future__") \
                        and top not in deps:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, sorted(missing)
