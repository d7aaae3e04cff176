"""superres.cli.common's list arguments: a comma-separated scale or name list ignores empty items
(a trailing or doubled comma) and spaces around names, keeps each item once in the order given,
an empty list is refused with a message that says so; a bad --max-memory is a usage error
that says why; and a subcommand whose module lacks a dependency is not silently left out of the CLI."""

from __future__ import annotations

import argparse

import pytest

from superres.cli.common import parse_list, parse_scales


def test_empty_scale_items_are_ignored():
    assert parse_scales("2,") == [2.0]
    assert parse_scales("4, ,2,,3") == [4.0, 2.0, 3.0]
    assert parse_scales("3,2,3") == [3.0, 2.0]


def test_names_are_stripped_and_kept_once():
    assert parse_list(" bicubic , nearest,bicubic,") == ["bicubic", "nearest"]


def test_an_empty_name_list_says_so():
    with pytest.raises(argparse.ArgumentTypeError, match="empty list"):
        parse_list(" , ")


def test_a_bad_memory_size_says_why(capsys):
    from superres.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["resize", "in.png", "out.png", "-s", "2", "--max-memory", "4Q"])
    assert exc.value.code == 2
    assert "invalid memory size '4Q'" in capsys.readouterr().err


def test_a_subcommand_missing_a_dependency_is_not_silently_dropped(monkeypatch):
    import importlib

    from superres.cli import main as cli_main

    real = importlib.import_module

    def import_module(name, *args, **kwargs):
        if name == "superres.cli.methods":
            raise ModuleNotFoundError("No module named 'somedep'", name="somedep")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cli_main.importlib, "import_module", import_module)
    with pytest.raises(ModuleNotFoundError, match="somedep"):
        cli_main.build_parser()
