"""The mutant catalogue (tools/mutants.py): well formed (default run), and every mutant caught
by its tests (slow: the whole catalogue, one fresh copy of the repository per mutant)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("gan_theory_mutants", ROOT / "tools" / "mutants.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


mutants = _load()
CATALOGUE = mutants.CATALOGUE


def test_catalogue_is_well_formed():
    ids = [m.id for m in CATALOGUE]
    assert len(CATALOGUE) >= 30
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    assert {m.area for m in CATALOGUE} == {"engine", "trainer", "claims", "cli"}
    for m in CATALOGUE:
        assert m.description and m.tests and m.old != m.new, m.id
        assert m.kind in ("pytest", "check"), m.id
        text = (ROOT / m.file).read_text()
        assert text.count(m.old) == 1, f"{m.id}: the snippet occurs {text.count(m.old)} times in {m.file}"
    # the four mutants that got through before issue 9 are in the catalogue
    described = " ".join(m.description for m in CATALOGUE)
    for words in ("first-moment bias correction", "p + q instead of m", "C + log 4 instead of (C + log 4)/2",
                  "99% to 50%"):
        assert words in described, words


def test_every_selection_exists():
    """Every pytest node id or file of the catalogue collects; every claim id exists."""
    from gan_theory.claims import CLAIMS

    items = sorted({t for m in CATALOGUE if m.kind == "pytest" for t in m.tests} - {"--slow"})
    assert not any(t.startswith("-") for t in items), "a -k selection needs its own collection check here"
    files = sorted({t.split("::")[0] for t in items})
    for f in files:
        assert (ROOT / f).is_file(), f"{f}: no such test file"
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
                       cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    collected = [line.strip() for line in r.stdout.splitlines() if "::" in line]
    for t in items:
        if "::" in t:
            ok = any(c == t or c.startswith(t + "[") for c in collected)
        else:
            ok = any(c.startswith(t + "::") for c in collected)
        assert ok, f"{t}: collects no test"
    for m in CATALOGUE:
        if m.kind == "check":
            assert all(t in CLAIMS for t in m.tests), m.id


def test_apply_refuses_a_stale_or_ambiguous_snippet(tmp_path):
    (tmp_path / "f.py").write_text("a = 1\nb = 1\n")
    stale = mutants.Mutant("E99", "x", "f.py", "c = 1", "c = 2", ("t",))
    twice = mutants.Mutant("E98", "x", "f.py", " = 1", " = 2", ("t",))
    once = mutants.Mutant("E97", "x", "f.py", "b = 1", "b = 2", ("t",))
    assert "0 times" in mutants.apply(stale, tmp_path)
    assert "2 times" in mutants.apply(twice, tmp_path)
    assert mutants.apply(once, tmp_path) is None
    assert (tmp_path / "f.py").read_text() == "a = 1\nb = 2\n"


@pytest.mark.slow
def test_every_mutant_is_caught():
    """The whole catalogue: each mutant's tests fail on the mutated copy and pass on the
    unmutated one. ``GT_MUTANT_JOBS`` sets how many run at once (default 1)."""
    jobs = int(os.environ.get("GT_MUTANT_JOBS", "1"))
    results, baselines = mutants.run_catalogue(list(CATALOGUE), jobs, progress=lambda s: None)
    assert all(b.status == "ok" for b in baselines), [(b.id, b.detail) for b in baselines if b.status != "ok"]
    bad = [(r.id, r.status, r.detail) for r in results if not r.caught]
    assert not bad, mutants.table(results)
