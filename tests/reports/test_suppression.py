"""The shared small-number rule."""

from __future__ import annotations

from bamara.reports.suppression import (
    SUPPRESSED,
    display,
    is_small,
    mask,
    mask_breakdown,
    mask_ratio,
)


def test_it_hides_counts_from_one_to_nine_only():
    assert [mask(n) for n in (0, 1, 9, 10, 11)] == [0, SUPPRESSED, SUPPRESSED, 10, 11]
    assert mask(None) is None and not is_small(None)
    assert str(SUPPRESSED) == "< 10" and display(SUPPRESSED) == "< 10"


def test_it_hides_a_second_cell_when_one_alone_would_be_recovered_from_the_total():
    masked = mask_breakdown({"F": 120, "M": 5, "autre": 30, "vide": 0})
    assert masked == {"F": 120, "M": SUPPRESSED, "autre": SUPPRESSED, "vide": 0}


def test_it_keeps_a_breakdown_whose_small_cells_already_hide_each_other():
    assert mask_breakdown({"a": 3, "b": 4, "c": 50}) == {"a": SUPPRESSED, "b": SUPPRESSED, "c": 50}
    assert mask_breakdown({"a": 12, "b": 40}) == {"a": 12, "b": 40}


def test_it_hides_a_ratio_computed_on_few_patients():
    assert mask_ratio(1.57, 7) is SUPPRESSED and mask_ratio(2.5, 10) == 2.5
    assert display(1.5) == "1,50" and display(None) == "—"
