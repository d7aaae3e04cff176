"""superres.io's public names."""

from __future__ import annotations

import types

import superres.io


def test_every_public_name_of_superres_io_is_in_all_and_star_import_gives_them() -> None:
    public = {name for name, value in vars(superres.io).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(superres.io.__all__) == public
    namespace: dict[str, object] = {}
    exec("from superres.io import *", namespace)
    assert public <= set(namespace)


def test_the_package_exports_what_the_image_module_declares() -> None:
    import superres.io.image

    assert set(superres.io.__all__) == set(superres.io.image.__all__)
    for name in superres.io.image.__all__:
        assert getattr(superres.io, name) is getattr(superres.io.image, name)
