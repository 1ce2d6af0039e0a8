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


# ---------------------------------------------------------------- refusals: one line, exit code 2
#
# Expected behaviour (gan_theory/cli.py, "Errors"): bad input is refused before anything is
# computed, with exactly one line on stderr, `gan-theory: error: ...`, that names the argument,
# and exit code 2; no traceback. `gan_theory.claims.run` is replaced by a spy in the `check`
# tests, so that a refusal that comes too late (after the checks) shows as a call to it.

import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import gan_theory.claims  # noqa: E402
from gan_theory.cli import build_parser  # noqa: E402


@pytest.fixture
def spy(monkeypatch, tmp_path):
    """Run in an empty directory; record calls of the claim runner instead of checking claims."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GAN_THEORY_TRACEBACK", raising=False)
    calls = []

    def fake_run(ids, ctx=None, on_result=None):
        calls.append(list(ids))
        return []

    monkeypatch.setattr(gan_theory.claims, "run", fake_run)
    return calls


def refused(capsys, argv, *names):
    """Run main(argv); assert exit code 2 and one `gan-theory: error:` line naming `names`."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, (code, captured.err)
    assert len(lines) == 1 and lines[0].startswith("gan-theory: error: "), captured.err
    assert "Traceback" not in captured.err
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0], captured.out


@pytest.fixture
def a_file(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("not a directory\n")
    return f


@pytest.mark.parametrize("argv,names", [
    (["train", "--target", "gaussian", "--betas", "0.5"], ["--betas", "two numbers", "'0.5'"]),
    (["train", "--target", "gaussian", "--betas", "0.5,0.9,0.99"], ["--betas", "two numbers"]),
    (["train", "--target", "gaussian", "--steps", "true"], ["--steps", "integer", "'true'"]),
    (["train", "--target", "gaussian", "--steps", "1.5"], ["--steps", "integer"]),
    (["train", "--target", "gaussian", "--lr-g", "fast"], ["--lr-g", "number", "'fast'"]),
    (["train", "--target", "gaussian", "--d-hidden", ""], ["--d-hidden", "integers"]),
    (["train", "--target", "gaussian", "--d-hidden", "64,x"], ["--d-hidden", "integers"]),
    (["train", "--target", "gaussian", "--seeds", "1,,2"], ["--seeds", "integers"]),
    (["train", "--target", "gaussian", "--seed", "18446744073709551616"], ["seed", "2**64"]),
    (["train", "--target", "gaussian", "--ensemble", "2", "--seed", "18446744073709551615"], ["seed", "2**64 - 2"]),
    (["train", "--target", "gaussian", "--lr-g", "nan"], ["lr_g", "finite"]),
    (["train", "--target", "gaussian", "--betas", "0.5,1"], ["betas[1]", "< 1.0"]),
    (["train", "--target", "gaussian", "--ensemble", "2", "--seeds", "1,2,3"], ["seeds", "expected 2 seeds"]),
    (["train", "--target", "gaussian", "--generator", "gan"], ["generator", "'gan'", "'affine'"]),
    (["train", "--target", "gaussian", "--device", "tpu"], ["device", "'tpu'", "'auto', 'cpu', 'cuda' or 'cuda:N'"]),
    (["train", "--target", "gaussian", "--device", "garbage"], ["device", "'garbage'", "'cuda:N'"]),
    (["train", "--target", "nosuch"], ["target", "'nosuch'", "'gaussian'"]),
    (["train"], ["--target", "gaussian"]),
    (["train", "--target", "gaussian", "--param", "scale"], ["--param", "KEY=VALUE", "'scale'"]),
    (["train", "--target", "gaussian", "--param", "=1"], ["--param", "KEY=VALUE"]),
    (["train", "--target", "gaussian", "--param", "scale=1", "--param", "scale=2"], ["--param", "scale", "twice"]),
    (["train", "--target", "gaussian", "--param", "nosuch=1"], ["nosuch", "'scale'"]),
    (["train", "--target", "gaussian", "--param", "scale=-1"], ["scale", "> 0"]),
    (["train", "--target", "gaussian", "--no-such-option"], ["unrecognized arguments", "--no-such-option"]),
    (["train", "--resume", "no_such_run"], ["--resume", "'no_such_run'", "not a directory"]),
    (["check", "--only", ""], ["--only", "no claim ids", "G1", "G10"]),
    (["check", "--only", " , "], ["--only", "no claim ids", "G1", "G10"]),
    (["check", "--only", "G1,G99"], ["--only", "'G99'", "G1, G2", "G10"]),
    (["check", "--device", "tpu"], ["--device", "'tpu'", "'auto', 'cpu', 'cuda' or 'cuda:N'"]),
    (["check", "--device", "cuda:x"], ["--device", "'cuda:x'", "'cuda:N'"]),
    (["check", "--seed", "-1"], ["--seed", "'-1'", "2**63 - 1"]),
    (["check", "--seed", "2**64"], ["--seed", "integer"]),
    (["check", "--out", ""], ["--out", "directory"]),
    (["table", "nosuch"], ["PAIRS", "'nosuch'", "shifted_gaussians"]),
    (["frobnicate"], ["COMMAND", "'frobnicate'", "'check'"]),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, spy, argv, names):
    line, out = refused(capsys, argv, *names)
    assert spy == [] and out == ""  # refused before anything was computed or printed


def test_cuda_device_that_is_not_there(capsys, spy, monkeypatch):
    from gan_theory.training import device

    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: False)
    refused(capsys, ["check", "--device", "cuda:7"], "--device", "'cuda:7'", "CUDA is not available", "'cpu'")
    refused(capsys, ["train", "--target", "gaussian", "--device", "cuda:7", "--steps", "1"],
            "device", "'cuda:7'", "CUDA is not available")
    assert spy == []


def test_check_out_that_cannot_be_written_is_refused_before_any_check(capsys, spy, a_file):
    # A directory under a regular file cannot be created (root included, unlike a chmod'ed one).
    refused(capsys, ["check", "--only", "G1", "--out", str(a_file / "reports")],
            "--out", str(a_file / "reports"), "cannot be created or written")
    refused(capsys, ["check", "--only", "G1", "--out", str(a_file)], "--out", str(a_file), "not a directory")
    assert spy == []  # no claim was checked
    assert a_file.read_text() == "not a directory\n"


def test_check_out_is_created_and_holds_only_the_reports(capsys, spy, tmp_path):
    out = tmp_path / "new" / "reports"
    assert main(["check", "--only", "g7, G7", "--out", str(out), "--quiet"]) == 0
    assert spy == [["G7"]]  # upper-cased, once
    assert sorted(p.name for p in out.iterdir()) == ["claims.json", "claims.md"]  # no write-test leftovers
    assert capsys.readouterr().err == ""


def test_train_out_that_cannot_be_written_is_refused_before_training(capsys, spy, a_file, monkeypatch):
    from gan_theory.training import run

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(run.Trainer, "run", no_training)
    refused(capsys, ["train", "--target", "gaussian", "--steps", "1", "--out", str(a_file / "run")],
            "--out", "cannot be created or written")


def test_resume_refuses_options_it_would_ignore(capsys, spy, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    refused(capsys, ["train", "--resume", str(run), "--target", "ring"], "--target", "drop --target")
    refused(capsys, ["train", "--resume", str(run), "--param", "k=3"], "--param", "drop --param")
    refused(capsys, ["train", "--resume", str(run), "--out", str(tmp_path / "other")], "--out", "drop --out")


def test_option_types_parse_what_they_promise():
    parser = build_parser()
    args = parser.parse_args(["train", "--betas", "0.5, 0.999", "--seeds", "3", "--d-hidden", "32,16",
                              "--lr-g", "1e-3,2e-3", "--lr-d", "5e-4", "--steps", "7", "--init-loc", "-1.5"])
    assert args.cfg_betas == (0.5, 0.999)
    assert args.cfg_seeds == (3,) and args.cfg_d_hidden == (32, 16)
    assert args.cfg_lr_g == (1e-3, 2e-3) and args.cfg_lr_d == 5e-4
    assert args.cfg_steps == 7 and type(args.cfg_steps) is int and args.cfg_init_loc == -1.5


def _package_function(source: str):
    """A function whose code lives, for tracebacks, in a file of the gan_theory package."""
    namespace = {}
    exec(compile(source, str(Path(gan_theory.__file__).parent / "_cli_rule_test.py"), "exec"), namespace)
    return namespace["f"]


def test_bugs_keep_their_traceback(capsys, spy, monkeypatch, tmp_path):
    # The rule: only raise statements of the package (ValueError, TypeError), OSError and
    # AccuracyError are refusals. A RuntimeError, or a TypeError raised by a built-in that the
    # package called with the wrong thing, is a bug and propagates with its traceback.
    out = ["check", "--only", "G1", "--out", str(tmp_path / "r")]
    for boom, error in (("def f(*a, **k):\n    raise RuntimeError('internal')\n", RuntimeError),
                        ("def f(*a, **k):\n    return {}['missing']\n", KeyError),
                        ("def f(*a, **k):\n    return len(0.5)\n", TypeError)):
        monkeypatch.setattr(gan_theory.claims, "run", _package_function(boom))
        with pytest.raises(error):
            main(out)
    monkeypatch.setattr(gan_theory.claims, "run", lambda *a, **k: len(0.5))  # outside the package
    with pytest.raises(TypeError):
        main(out)
    monkeypatch.setattr(gan_theory.claims, "run",
                        _package_function("def f(*a, **k):\n    raise ValueError('x: expected y, got z')\n"))
    refused(capsys, out, "x: expected y, got z")
    monkeypatch.setenv("GAN_THEORY_TRACEBACK", "1")  # and the traceback of a refusal on request
    with pytest.raises(ValueError, match="x: expected y, got z"):
        main(out)


def test_refusal_through_the_entry_point_has_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GAN_THEORY_TRACEBACK"}
    root = str(Path(gan_theory.__file__).resolve().parents[1])  # this checkout, whatever the working directory
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    r = subprocess.run([sys.executable, "-m", "gan_theory", "train", "--target", "gaussian", "--betas", "0.5"],
                       capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == ["gan-theory: error: argument --betas: expected exactly two numbers separated by "
                                     "commas, got '0.5' (see 'gan-theory train --help')"]
