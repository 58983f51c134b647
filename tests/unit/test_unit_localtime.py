"""Local wall-clock times to instants by the zone's transitions gives exactly Arrow's per-value
``assume_timezone`` (earliest for ambiguous times, the jump's instant for skipped ones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from culturemesh.localtime import MAX_TRANSITIONS, to_utc_seconds

ZONES = ["Europe/Brussels", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo"]
# 2026-03-29 02:30 and 2026-10-25 02:30 in Brussels: a skipped and an ambiguous wall-clock time
BRUSSELS_EDGES = [datetime(2026, 3, 29, 2, 30), datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 3, 0)]


def arrow(local: list[int], zone: str) -> list[int]:
    naive = pa.array(local, pa.timestamp("s"))
    instants = pc.assume_timezone(naive, zone, ambiguous="earliest", nonexistent="latest")
    return pc.cast(pc.cast(instants, pa.timestamp("s", "UTC")), pa.int64()).to_pylist()


def seconds(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def test_the_daylight_saving_edges_of_brussels() -> None:
    local = [seconds(m) for m in BRUSSELS_EDGES]
    result = to_utc_seconds(pa.array(local, pa.int64()), "Europe/Brussels")
    assert result is not None
    assert result.to_pylist() == arrow(local, "Europe/Brussels")
    skipped, ambiguous, _ = result.to_pylist()
    assert skipped == seconds(datetime(2026, 3, 29, 1, 0))  # 03:00 CEST, when the clocks jumped
    assert ambiguous == seconds(datetime(2026, 10, 25, 0, 30))  # the first 02:30, still CEST


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.integers(seconds(datetime(2020, 1, 1)), seconds(datetime(2030, 1, 1))),
    offsets=st.lists(st.integers(0, 400 * 86_400), min_size=1, max_size=60),
    edges=st.lists(st.integers(-7200, 7200), max_size=20),
    nulls=st.booleans(),
)
def test_agrees_with_arrow_on_any_times_near_and_between_transitions(
    zone: str, start: int, offsets: list[int], edges: list[int], nulls: bool
) -> None:
    local = [start + o for o in offsets] + [seconds(m) + e for m in BRUSSELS_EDGES for e in edges]
    values: list[int | None] = [*local, None] if nulls else list(local)
    result = to_utc_seconds(pa.array(values, pa.int64()), zone)
    expected = [*arrow(local, zone), None] if nulls else arrow(local, zone)
    assert result is not None  # at most a dozen transitions from 2020 to 2030: the fast path
    assert result.to_pylist() == expected


def test_columns_spanning_decades_are_left_to_arrow() -> None:
    local = pa.array([seconds(datetime(1990, 1, 1)), seconds(datetime(2030, 1, 1))], pa.int64())
    assert to_utc_seconds(local, "Europe/Brussels") is None
    assert MAX_TRANSITIONS < 80


@pytest.mark.parametrize("zone", ZONES)
def test_a_column_without_values_stays_empty(zone: str) -> None:
    empty = to_utc_seconds(pa.array([None, None], pa.int64()), zone)
    assert empty is not None and empty.to_pylist() == [None, None]
