"""``superres models``: a count that rounds up to the next unit is shown in that unit."""

from __future__ import annotations

from superres.cli import models as models_cli


def test_a_count_that_rounds_to_a_thousand_units_takes_the_next_unit():
    assert [models_cli._fmt_count(n) for n in (999.6, 999_400, 999_600, 999_700_000, 12_345, 999)] == [
        "1k", "999k", "1M", "1G", "12.3k", "999"]
