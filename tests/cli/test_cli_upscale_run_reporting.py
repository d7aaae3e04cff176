"""``superres upscale``: what a run says per file (off a terminal, without -q), its summary line,
and the exit status, for done, skipped and refused files."""

from __future__ import annotations

import numpy as np

from superres.cli.main import main
from superres.io import write_image


def _image(path, seed=0):
    write_image(path, np.random.default_rng(seed).integers(0, 256, (8, 10, 3), dtype=np.uint8))


def test_each_file_gets_a_line_off_a_terminal_unless_quiet(tmp_path, capsys):
    for name in ("a.png", "b.png"):
        _image(tmp_path / name)
    out = tmp_path / "out"
    argv = ["upscale", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--out-dir", str(out), "-m", "bicubic"]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in err] == [
        f"[1/2] {tmp_path / 'a.png'} -> {out / 'a.png'}", f"[2/2] {tmp_path / 'b.png'} -> {out / 'b.png'}"]
    assert main(argv) == 0  # both exist now
    err = capsys.readouterr().err.splitlines()
    assert err == [f"[1/2] {tmp_path / 'a.png'} -> {out / 'a.png'}: exists, skipped",
                   f"[2/2] {tmp_path / 'b.png'} -> {out / 'b.png'}: exists, skipped"]
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_the_summary_counts_done_skipped_and_own_outputs(tmp_path, capsys):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png", seed=1)
    assert main(["upscale", str(tmp_path / "a.png"), "-s", "3", "-m", "bicubic", "-q"]) == 0  # a_x3.png
    capsys.readouterr()
    # the folder now holds a.png, b.png and a_x3.png: a is done, b is new, a_x3 is an output
    assert main(["upscale", str(tmp_path), "-s", "3", "-m", "bicubic", "-q"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("upscaled 1 file x3 with bicubic, 1 skipped (output exists; --overwrite redoes it), "
                          "1 skipped (outputs of this command) in "), out


def test_an_output_in_a_missing_folder_is_named_as_such(tmp_path, capsys):
    _image(tmp_path / "a.png")
    assert main(["upscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "nope" / "b.png"), "-m", "bicubic"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"superres: error: cannot write {str(tmp_path / 'nope' / 'b.png')!r}: folder " \
                  f"{str(tmp_path / 'nope')!r} does not exist"


def test_an_out_dir_that_is_a_file_is_named_as_such(tmp_path, capsys):
    _image(tmp_path / "a.png")
    (tmp_path / "out").write_text("a file")
    assert main(["upscale", str(tmp_path / "a.png"), "--out-dir", str(tmp_path / "out"), "-m", "bicubic"]) == 1
    assert capsys.readouterr().err.strip() == f"superres: error: --out-dir {str(tmp_path / 'out')!r} is not a folder"
    assert (tmp_path / "out").read_text() == "a file"


def test_suffix_does_not_go_with_output_even_when_empty(tmp_path, capsys):
    _image(tmp_path / "a.png")
    assert main(["upscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--suffix", "", "-m", "bicubic"]) == 1
    assert "do not go with -o" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_tile_and_max_memory_reach_the_upscale(tmp_path, capsys, monkeypatch):
    import superres.inference

    seen = []
    real = superres.inference.upscale_array
    monkeypatch.setattr(superres.inference, "upscale_array",
                        lambda *a, **k: seen.append((k["tile"], k["max_memory"])) or real(*a, **k))
    _image(tmp_path / "a.png")
    assert main(["upscale", str(tmp_path / "a.png"), "-m", "bicubic", "--tile", "4", "--max-memory", "64M", "-q"]) == 0
    assert seen == [(4, 64 * 2**20)]


def test_a_failure_during_the_upscale_names_the_file(tmp_path, capsys, monkeypatch):
    import superres.inference
    from superres.errors import SuperresError

    def fail(*args, **kwargs):
        raise SuperresError("no luck")

    monkeypatch.setattr(superres.inference, "upscale_array", fail)
    _image(tmp_path / "a.png")
    assert main(["upscale", str(tmp_path / "a.png"), "-m", "bicubic", "-q"]) == 1
    assert capsys.readouterr().err.strip() == f"superres: error: {str(tmp_path / 'a.png')!r}: no luck"
    assert not (tmp_path / "a_x2.png").exists()
