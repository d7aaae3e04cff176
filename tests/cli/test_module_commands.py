"""The package's ``python -m`` commands treat bad input as the ``superres`` CLI does: one line on
stderr, status 1, no traceback and nothing written (``superres.errors.one_line_errors``)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from superres.errors import InvalidArgumentError, one_line_errors

MISSING = "/nonexistent-superres-test"

COMMANDS = [
    ("superres.assets", ["{tmp}/sample.png", "--size", "12"], "--size takes WIDTHxHEIGHT"),
    ("superres.models.scn", [f"{MISSING}/dict.safetensors", "-o", "{tmp}/start.safetensors", "--scale", "2"],
     "does not exist"),
    ("superres.methods.sparse_coding.dictionary", ["--scale", "2", "--data-dir", MISSING, "--out", "{tmp}/dict"],
     "does not exist"),
    ("superres.methods.classical.freeman", ["build", "--scales", "2", "--data-dir", MISSING], "does not exist"),
    ("superres.weights.compare", [f"{MISSING}/a.json", f"{MISSING}/b.json"], "model card a.json is missing"),
    ("superres.weights.average", [f"{MISSING}/a.safetensors", "-o", "{tmp}/mean.safetensors"], "at least two"),
    ("superres.weights.ship", [f"{MISSING}/a.safetensors", "scn.test-never-shipped"], "does not exist"),
    ("superres.training.plots", [f"{MISSING}/run"], "does not exist"),
    ("superres.training.summary", [f"{MISSING}/run"], "does not exist"),
]


@pytest.mark.parametrize("module, argv, message", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_bad_input_is_one_line_and_status_1(module, argv, message, tmp_path, capsys, monkeypatch):
    from superres.methods.classical import freeman

    monkeypatch.setattr(freeman, "database_path", lambda scale: tmp_path / f"freeman-x{scale}.safetensors")
    command = importlib.import_module(module)
    status = command.main([a.format(tmp=tmp_path) for a in argv])
    captured = capsys.readouterr()
    assert status == 1 and captured.err.startswith("error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", [c[0] for c in COMMANDS])
def test_a_usage_error_is_one_line_and_status_2(module, capsys):
    command = importlib.import_module(module)
    with pytest.raises(SystemExit) as stopped:
        command.main(["--no-such-option"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1 and "error:" in err and "usage:" not in err


def test_a_module_command_says_its_error_in_one_line_from_the_shell(tmp_path):
    result = subprocess.run([sys.executable, "-m", "superres.models.scn", f"{MISSING}/d.safetensors", "-o",
                             str(tmp_path / "s.safetensors"), "--scale", "2"], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


def test_the_decorator_passes_status_through_and_maps_interrupts(capsys):
    @one_line_errors
    def ok(argv=None):
        return 3

    @one_line_errors
    def refused(argv=None):
        raise InvalidArgumentError("bad value")

    @one_line_errors
    def interrupted(argv=None):
        raise KeyboardInterrupt

    @one_line_errors
    def piped(argv=None):
        raise BrokenPipeError  # e.g. `python -m superres.weights.compare A B | head -1`

    @one_line_errors
    def buggy(argv=None):
        raise ZeroDivisionError("a bug keeps its traceback")

    assert ok([]) == 3 and refused([]) == 1 and interrupted([]) == 130 and piped([]) == 1
    assert capsys.readouterr().err == "error: bad value\ninterrupted\n"
    with pytest.raises(ZeroDivisionError):
        buggy([])
