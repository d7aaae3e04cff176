"""check_option_names: a keyword the functions take is accepted whether it is keyword-only or
positional-or-keyword; one the caller passes itself (set_by_caller) or none takes is refused,
with the accepted names listed."""

import pytest

from superres.errors import InvalidArgumentError
from superres.methods.base import check_option_names


def _solver(image, size, *, patch=5, radius=3):
    return image


def _search(queries, *, samples=4):
    return queries


def test_positional_or_keyword_and_keyword_only_options_are_accepted():
    check_option_names({"patch": 7, "radius": 2, "samples": 3}, _solver, _search, what="probe")
    check_option_names({"size": 4}, _solver, what="probe")  # positional-or-keyword, not set by the caller


def test_an_option_the_caller_sets_itself_is_refused():
    with pytest.raises(InvalidArgumentError, match="probe has no option 'size'") as caught:
        check_option_names({"size": 4}, _solver, what="probe", set_by_caller=("image", "size"))
    assert "(it takes: patch, radius)" in str(caught.value)


def test_an_unknown_option_is_refused_with_what_is_taken():
    with pytest.raises(InvalidArgumentError, match=r"probe has no option 'patchh', 'x' \(it takes: image, patch"):
        check_option_names({"patchh": 1, "x": 2}, _solver, what="probe")
