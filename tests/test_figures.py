"""Tests of ``gan-theory figures`` (issue 11): the plotting package is a leaf, the figures' data
agree with theory, the command refuses bad input in one line, and regenerating a figure gives
the same bytes.

The data of the figures that need no training (criterion_landscape, function_space, the loss
gradients of saturation) are checked here at full or quick size in a few seconds; the trained
figures are in ``test_figures_trained.py``.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gan_theory as gt
from gan_theory.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gan_theory"


# ------------------------------------------------------------------ a leaf package

def test_import_gan_theory_does_not_import_matplotlib():
    # a fresh interpreter: `import gan_theory` (and the training and claims packages that the
    # CLI's other commands use) must not load matplotlib or the plotting package
    code = ("import sys, gan_theory, gan_theory.claims, gan_theory.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'matplotlib' or m.startswith('gan_theory.plotting')]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, f"imported: {out.stdout.strip()} {out.stderr[-500:]}"


def test_nothing_outside_plotting_imports_it_at_module_level():
    # Only gan_theory/cli.py may reach the plotting package, and only inside a function (lazily).
    for path in PACKAGE.rglob("*.py"):
        if "plotting" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "")] + [a.name for a in node.names]
            assert not any("plotting" in n or n.startswith("matplotlib") for n in names), \
                f"{path.relative_to(ROOT)} imports {names} at module level"


def test_plotting_uses_only_public_names_of_the_library():
    # issue 13 moves the engine's private modules: the figures use public names only
    for path in (PACKAGE / "plotting").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.startswith("gan_theory"):
                parts = node.module.split(".") + [a.name for a in node.names]
                assert not any(p.startswith("_") for p in parts), f"{path.name}: from {node.module} import ..."
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "gt":
                assert not node.attr.startswith("_"), f"{path.name}: gt.{node.attr}"


# ------------------------------------------------------------------ criterion_landscape

@pytest.fixture(scope="module")
def landscape():
    from gan_theory.plotting.criterion_landscape import criterion_landscape_data

    return criterion_landscape_data(quick=True)


def test_landscape_minimum_is_minus_log4_at_the_data_parameters(landscape):
    d = landscape
    # Theorem 1: C(G) >= -log 4 with equality exactly at p_g = p_data = N(0, 1); (0, 1) is a
    # grid point (odd grid, sigma[n // 2] = 1), so the grid minimum is there and equals -log 4
    # within the engine's reported error bound (plus float rounding of the comparison, 1e-15).
    assert d.argmin == (0.0, 1.0)
    i, j = d.sigma.tolist().index(1.0), d.mu.tolist().index(0.0)
    assert abs(d.criterion[i, j] + gt.LOG4) <= d.criterion_error[i, j] + 1e-15
    assert d.minimum == d.criterion[i, j]
    # everywhere else strictly above -log 4 by more than the error bounds
    others = np.ones_like(d.criterion, dtype=bool)
    others[i, j] = False
    assert np.all(d.criterion[others] + gt.LOG4 > d.criterion_error[others])


def test_landscape_matches_the_gaussian_closed_form_on_a_few_points(landscape):
    # second method: C(G) = -log 4 + 2 JSD, JSD by the engine one pair at a time (not batched)
    d = landscape
    for i, j in ((0, 0), (3, 17), (len(d.sigma) - 1, len(d.mu) // 2)):
        jsd = gt.jsd(gt.toys.gaussian(0.0, 1.0), gt.toys.gaussian(float(d.mu[j]), float(d.sigma[i])))  # float64
        assert abs(d.criterion[i, j] - (-gt.LOG4 + 2 * jsd.value)) <= d.criterion_error[i, j] + 2 * jsd.error + 1e-15


def test_uniform_jsd_line_is_the_closed_form_and_saturates_at_log2(landscape):
    d = landscape
    # closed form JSD(U(0,1) || U(s,s+1)) = min(s, 1) log 2 (docstring of uniform_jsd_exact),
    # written out here again: linear in s up to 1, then log 2 (disjoint supports)
    exact = np.where(d.shift < 1, d.shift * math.log(2), math.log(2))
    np.testing.assert_allclose(d.jsd_uniform_exact, exact, rtol=0, atol=1e-15)
    # the engine agrees within its own error bound (and float rounding)
    assert np.all(np.abs(d.jsd_uniform - exact) <= d.jsd_uniform_error + 1e-15)
    # saturation at log 2 from s = 1 on; the Gaussian pair stays strictly below and increases
    assert np.all(np.abs(d.jsd_uniform[d.shift >= 1] - math.log(2)) <= d.jsd_uniform_error[d.shift >= 1] + 1e-15)
    assert np.all(d.jsd_gauss < math.log(2) - d.jsd_gauss_error)
    assert np.all(np.diff(d.jsd_gauss) > 0)


# ------------------------------------------------------------------ saturation: the gradients

def test_saturation_gradients_match_the_closed_forms():
    from gan_theory.plotting.saturation import loss_gradients

    logits = np.linspace(-30.0, 30.0, 601)
    g = loss_gradients(logits)
    sig = 1.0 / (1.0 + np.exp(-logits))
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l); d/dl[-log sigmoid(l)] = sigmoid(l) - 1 = -sigmoid(-l)
    # (written with sigmoid(-l) to keep relative accuracy where it is tiny); float64 rounding
    np.testing.assert_allclose(g["minimax"], -sig, rtol=1e-13, atol=0)
    np.testing.assert_allclose(g["non_saturating"], -1.0 / (1.0 + np.exp(logits)), rtol=1e-13, atol=0)
    # the saturation itself: where D(G(z)) < 1e-6 the minimax gradient is below 1e-6, the
    # non-saturating one within 1e-6 of -1
    rejected = sig < 1e-6
    assert rejected.any() and np.all(np.abs(g["minimax"][rejected]) < 1e-6)
    assert np.all(np.abs(g["non_saturating"][rejected] + 1) < 1e-6)


# ------------------------------------------------------------------ function_space

@pytest.fixture(scope="module")
def fspace():
    from gan_theory.plotting.function_space import function_space_data

    return function_space_data(quick=True)


def test_function_space_criterion_falls_monotonically_to_minus_log4(fspace):
    d = fspace
    c = d.criterion
    # Prop. 2: C is convex in p_g and the steps descend it with the exact D*: C never rises
    # (up to float rounding of a sum of ~1000 terms, 1e-14)
    assert np.all(np.diff(c) <= 1e-14)
    assert c[0] + gt.LOG4 > 0.5  # the start is far from p_data (N(-3, 2^2) against mixture2)
    # 30 mirror-descent steps of size 0.5 from there: C + log 4 measured 4.9e-6 (claim G3 asks
    # 1e-6 after 60 steps); the bound 1e-4 leaves room for other BLAS, and is 5000x below the start
    assert 0 <= c[-1] + gt.LOG4 <= 1e-4


def test_function_space_criterion_is_minus_log4_plus_2_jsd(fspace):
    # second method: the discrete JSD of the recorded vectors, written out with numpy
    d = fspace
    a, b = d.a, d.final_b
    m = 0.5 * (a + b)

    def kl(p, q):
        k = p > 0
        return float(np.sum(p[k] * np.log(p[k] / q[k])))

    assert abs(d.criterion[-1] - (-gt.LOG4 + kl(a, m) + kl(b, m))) <= 1e-13
    # the snapshots are densities (mass 1 on the grid) and the last one is p_data's
    h = d.x[1] - d.x[0]
    np.testing.assert_allclose(d.snapshots.sum(axis=1) * h, 1.0, rtol=0, atol=1e-12)
    assert np.max(np.abs(d.snapshots[-1] - a / h)) <= 1e-2 * np.max(a / h)


# ------------------------------------------------------------------ the command

def _run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv, needle", [
    (["--only", "goodfellow_fig1,nosuch"], "unknown figure name(s) 'nosuch'"),
    (["--only", ","], "no figure names"),
    (["--format", "png,jpeg"], "unknown format(s) 'jpeg'"),
    (["--device", "tpu"], "--device"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, tmp_path, capsys):
    rc, out, err = _run(["figures", "--out", str(tmp_path / "f"), *argv], capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gan-theory: error: ") and needle in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "f").exists() or not any((tmp_path / "f").iterdir())  # nothing computed


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    rc, out, err = _run(["figures", "--out", str(f), "--only", "criterion_landscape"], capsys)
    assert rc == 2 and "not a directory" in err and "Traceback" not in err


def test_regenerating_gives_identical_bytes(tmp_path, capsys):
    # two independent runs of the command (fixed seeds, metadata stripped, fixed SVG hash salt)
    outs = []
    for k in (1, 2):
        out = tmp_path / f"run{k}"
        rc, _, _ = _run(["figures", "--quick", "--quiet", "--only", "criterion_landscape,function_space",
                         "--format", "png,svg,pdf", "--out", str(out)], capsys)
        assert rc == 0
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == [f"{n}.{f}" for n in ("criterion_landscape", "function_space") for f in ("pdf", "png", "svg")]
    for name in names:
        a, b = (outs[0] / name).read_bytes(), (outs[1] / name).read_bytes()
        assert a == b, f"{name} differs between two runs"
        # no software version, no date
        assert b"Matplotlib version" not in a and b"<dc:date>" not in a and b"CreationDate" not in a
        assert len(a) > 10_000  # really a figure
