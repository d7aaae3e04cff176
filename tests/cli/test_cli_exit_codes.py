"""Exit codes of ``superres`` and the argument checks shared by the subcommands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from superres.cli.main import main


def _image(path, height=12, width=10, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_scale_range_is_above_1_to_64_inclusive():
    from superres.cli.common import parse_scale

    assert parse_scale("1.001") == 1.001 and parse_scale("64") == 64.0
    for bad in ("1", "0.999", "64.001", "65"):
        with pytest.raises(argparse.ArgumentTypeError, match="above 1 and at most 64"):
            parse_scale(bad)


def test_an_output_folder_we_may_not_write_in_is_refused(tmp_path, capsys, monkeypatch):
    # os.access is faked: the tests may run as root, who may write anywhere
    src = _image(tmp_path / "in.png")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if Path(path) == locked
                        else real_access(path, mode, *a, **k))
    assert main(["resize", str(src), str(locked / "o.png"), "-s", "2"]) == 1
    assert "permission denied" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


def test_an_upper_case_image_extension_is_an_image(tmp_path):
    src = _image(tmp_path / "in.png")
    assert main(["resize", str(src), str(tmp_path / "OUT.PNG"), "-s", "2"]) == 0
    with Image.open(tmp_path / "OUT.PNG") as im:
        assert im.format == "PNG" and im.size == (20, 24)


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("error, code, message", [(KeyboardInterrupt, 130, "interrupted"), (BrokenPipeError, 1, "")])
def test_interrupt_and_broken_pipe_exit_codes(monkeypatch, capsys, error, code, message):
    import superres.cli.methods

    def boom(args):
        raise error()

    monkeypatch.setattr(superres.cli.methods, "run", boom)
    assert main(["methods"]) == code
    assert message in capsys.readouterr().err


def test_methods_shows_any_for_methods_without_fixed_scales(capsys):
    assert main(["methods"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("bicubic "))
    assert row.split()[:4] == ["bicubic", "interpolation", "rgb", "any"]


def test_sigterm_cleans_up_as_ctrl_c_does(tmp_path):
    # `kill PID` (a scheduler, a deadline) must not leave a half-built page folder behind:
    # Python's default for SIGTERM ends the process without running any clean-up
    import subprocess
    import sys

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        _image(photos / f"p{i}.png", 24, 24, seed=i)
    script = (
        "import os, signal, sys\n"
        "from superres.cli.main import main\n"
        "from superres.evaluation.webpage import ComparisonPage\n"
        "add = ComparisonPage.add\n"
        "def add_then_sigterm(self, *a):\n"
        "    add(self, *a)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)  # after the first image is staged\n"
        "ComparisonPage.add = add_then_sigterm\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script, "evaluate", "-m", "nearest", "-d", str(photos), "-s", "2",
                          "--html", str(tmp_path / "page")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 143 and run.stderr.strip() == "superres: terminated"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # no page, no staging folder
