"""merge(): entities by primary key, newest wins, tombstones remove, counts say what happened."""

from __future__ import annotations

import pyarrow as pa

from culturemesh.merge import merge


def rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def test_first_version_keeps_the_last_row_of_each_key_and_drops_tombstones() -> None:
    incoming = pa.table({"id": ["a", "a", "b", "c"], "v": [1, 2, 3, 4]})
    result = merge(None, incoming, pa.array([False, False, False, True]), ["id"])
    assert rows(result.table) == [("a", 2), ("b", 3)]
    assert (result.inserted, result.updated, result.deleted) == (2, 0, 0)


def test_composite_keys_are_matched_on_every_key_column() -> None:
    previous = pa.table({"event": ["e1", "e1"], "day": ["mon", "tue"], "seats": [10, 20]})
    incoming = pa.table({"event": ["e1", "e2"], "day": ["tue", "tue"], "seats": [25, 5]})
    result = merge(previous, incoming, None, ["event", "day"])
    assert rows(result.table) == [("e1", "mon", 10), ("e1", "tue", 25), ("e2", "tue", 5)]
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)


def test_an_identical_row_counts_as_unchanged_and_a_tombstone_for_an_unknown_key_deletes_nothing() -> None:
    previous = pa.table({"id": ["a", "b"], "v": [1, 2]})
    incoming = pa.table({"id": ["a", "zz"], "v": [1, 0]})
    result = merge(previous, incoming, pa.array([False, True]), ["id"])
    assert rows(result.table) == [("a", 1), ("b", 2)]
    assert (result.unchanged, result.deleted, result.inserted) == (1, 0, 0)


def test_with_a_modified_column_the_newest_row_wins_whatever_the_file_order() -> None:
    previous = pa.table({"id": ["a"], "v": [1], "at": [5]})
    incoming = pa.table({"id": ["a", "a", "b", "b"], "v": [9, 7, 3, 4], "at": [9, 4, 2, 1]})
    result = merge(previous, incoming, None, ["id"], "at")
    assert rows(result.table) == [("a", 9, 9), ("b", 3, 2)]
