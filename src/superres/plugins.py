"""Methods and architectures from other installed packages, through entry points.

A package adds to the registries without editing this one by declaring, in its
``pyproject.toml``::

    [project.entry-points."superres.methods"]
    my-sr = "my_package.methods:my_sr"          # a factory returning an SRMethod

    [project.entry-points."superres.architectures"]
    my-net = "my_package.models:MyNet"          # an nn.Module class, for recipes and cards

Once installed, ``superres evaluate -m my-sr``, ``superres upscale -m my-sr`` and a recipe's
``model.architecture = "my-net"`` find them like the built-in ones.  A built-in name always
wins over a plugin's (a plugin cannot change what a shipped name means).
"""

from __future__ import annotations

from importlib.metadata import entry_points

__all__ = ["METHODS_GROUP", "ARCHITECTURES_GROUP", "add_plugins"]

METHODS_GROUP = "superres.methods"
ARCHITECTURES_GROUP = "superres.architectures"


def add_plugins(table: dict[str, str], group: str) -> dict[str, str]:
    """``table`` (name -> ``"module:attr"``) with the entry points of ``group`` that it lacks added."""
    for entry in entry_points(group=group):
        if entry.name not in table and ":" in entry.value:
            table[entry.name] = entry.value
    return table
