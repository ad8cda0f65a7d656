"""The dry run's scratch file answers exactly, whether its filters spare the query or not."""

from __future__ import annotations

import pytest

from bamara.imports import scratch
from bamara.imports.scratch import Scratch


def fill(store: Scratch) -> None:
    store.add(keys={"m:S1:A": 2, "m:S1:B": 3}, identities={(1, "111"): 2, (2, "111"): 3},
              ipps={(1, "IPP1"): "111"}, traits=[],
              results=[(2, "m:S1:A", "cree", (), "hash-a"), (3, "m:S1:B", "cree", (), "hash-b")])


def answers(store: Scratch) -> tuple:
    return (store.source_keys(["m:S1:A", "m:S1:B", "m:S1:C"]),
            sorted(store.identities(["111", "222"])), store.ipps(["IPP1", "IPP2"]))


@pytest.mark.parametrize("bits", [8, scratch._FILTER_BITS])  # 8: every value "may" be there
def test_it_answers_the_same_whatever_the_filter_lets_through(bits, monkeypatch):
    monkeypatch.setattr(scratch, "_FILTER_BITS", bits)
    store = Scratch()
    fill(store)
    assert answers(store) == ({"m:S1:A": "hash-a", "m:S1:B": "hash-b"},
                              [(1, "111", 2), (2, "111", 3)], {(1, "IPP1"): "111"})
    store.close()


def test_it_asks_the_file_only_for_values_that_may_have_been_added():
    store = Scratch()
    fill(store)
    queries: list[str] = []
    store.db.set_trace_callback(queries.append)
    assert store.source_keys(["m:S1:never"]) == {}
    assert store.identities(["999"]) == [] and store.ipps(["never"]) == {}
    assert queries == []
    assert store.source_keys(["m:S1:A"]) == {"m:S1:A": "hash-a"}
    assert len(queries) == 1
    store.close()
