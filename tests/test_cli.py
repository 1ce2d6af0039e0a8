"""The gan-theory command line."""

import subprocess
import sys

import gan_theory
from gan_theory.cli import main


def test_version_and_help(capsys):
    for flag in ("--version",):
        try:
            main([flag])
        except SystemExit as exc:
            assert exc.code == 0
    assert gan_theory.__version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "usage: gan-theory" in capsys.readouterr().out


def test_table_checks_theorem_1(capsys):
    assert main(["table", "shifted_gaussians", "disjoint", "uniform_shift"]) == 0
    out = capsys.readouterr().out
    assert "disjoint" in out and "0.693147180560" in out
    assert "holds within the error bounds on every row: yes" in out


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "gan_theory", "--version"], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == f"gan-theory {gan_theory.__version__}"
