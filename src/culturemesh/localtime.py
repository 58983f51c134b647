"""Naive local times in a named zone to instants, column-wise, with the daylight-saving rules of
the contract: an ambiguous time (the hour clocks go back) takes the earlier instant, a time that
does not exist (the hour clocks go forward) the moment the clocks jumped.

Arrow's ``assume_timezone`` looks the zone up for every value. A column of real-world times spans
a few daylight-saving transitions at most, so :func:`to_utc_seconds` finds those transitions once
(with :mod:`zoneinfo`) and applies each to the whole column with a couple of comparisons: a batch
of a million times costs a few passes over the column instead of a million zone lookups. Columns
spanning many transitions (decades) go to Arrow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

MAX_TRANSITIONS = 16  # beyond this many in one column, Arrow's per-value lookup is as good
_DAY = 86_400


@dataclass(frozen=True)
class Transition:
    at: int  # the UTC instant (epoch seconds) the offset changes
    before: int  # offset (seconds east of UTC) until then
    after: int  # offset from then on


def _offset(zone: ZoneInfo, instant: int) -> int:
    delta = datetime.fromtimestamp(instant, UTC).astimezone(zone).utcoffset() or timedelta(0)
    return int(delta.total_seconds())


@functools.lru_cache(maxsize=256)
def transitions(zone_name: str, first: int, last: int) -> tuple[int, tuple[Transition, ...]]:
    """The offset at ``first`` and every transition in ``(first, last]`` (UTC epoch seconds),
    found by a daily scan and a bisection to the second."""
    zone = ZoneInfo(zone_name)
    start_offset, found = _offset(zone, first), []
    day, offset = first, start_offset
    while day < last:
        following = min(day + _DAY, last)
        next_offset = _offset(zone, following)
        if next_offset != offset:
            low, high = day, following  # offset(low) == offset, offset(high) != offset
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset(zone, middle) == offset else (low, middle)
            found.append(Transition(high, offset, _offset(zone, high)))
            offset = found[-1].after
        day = following
        if len(found) > MAX_TRANSITIONS:
            break
    return start_offset, tuple(found)


def to_utc_seconds(local: pa.Array, zone_name: str) -> pa.Array | None:
    """``local`` (int64 seconds of naive wall-clock times) as UTC epoch seconds; None when the
    column spans more than :data:`MAX_TRANSITIONS` transitions (the caller uses Arrow then)."""
    bounds = pc.min_max(local).as_py()
    if bounds["min"] is None:
        return local
    # Wall-clock times are at most a day away from their instant, whatever the zone.
    start, found = transitions(zone_name, bounds["min"] - _DAY, bounds["max"] + _DAY)
    if len(found) > MAX_TRANSITIONS:
        return None
    result = pc.subtract(local, pa.scalar(start, pa.int64()))
    for change in found:
        # Local times from the wall-clock moment the change happens (in the old offset) on take the
        # new offset; in a gap (clocks forward) they become the instant of the change itself.
        boundary = change.at + change.before
        after = pc.greater_equal(local, boundary)
        result = pc.if_else(after, pc.subtract(local, change.after), result)
        if change.after > change.before:
            gap = pc.and_(after, pc.less(local, change.at + change.after))
            result = pc.if_else(gap, pa.scalar(change.at, pa.int64()), result)
    return result
