"""The overlap helpers keep order, bound what is in flight, and surface a stage's error."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from culturemesh.pipeline import Background, prefetched


def test_prefetched_yields_every_item_in_order() -> None:
    assert list(prefetched(iter(range(1000)), depth=3)) == list(range(1000))


def test_prefetched_reraises_the_producers_error_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("block 3 is not CSV")

    seen = []
    with pytest.raises(ValueError, match="block 3"):
        for item in prefetched(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_prefetched_produces_at_most_depth_ahead_and_stops_when_closed() -> None:
    produced = []

    def items() -> Iterator[int]:
        for index in range(100):
            produced.append(index)
            yield index

    with contextlib.closing(prefetched(items(), depth=2)) as ahead:
        assert next(ahead) == 0
        time.sleep(0.3)
        assert len(produced) <= 4  # the one taken, ``depth`` queued, one waiting to be queued
    count = len(produced)
    time.sleep(0.2)
    assert len(produced) == count  # closed: the producer thread has stopped
    assert not [t for t in threading.enumerate() if t.name == "culturemesh-prefetch"]


def test_background_runs_calls_in_submission_order() -> None:
    done: list[int] = []
    with Background[None](depth=2) as work:
        for index in range(50):
            work.submit(lambda index=index: done.append(index))
    assert done == list(range(50))


def test_background_reraises_a_failed_call_and_stops_taking_work() -> None:
    def fail() -> None:
        raise OSError("disk full")

    done: list[int] = []
    with pytest.raises(OSError, match="disk full"), Background[None](depth=1) as work:
        work.submit(fail)
        for index in range(10):
            work.submit(lambda index=index: done.append(index))
    assert len(done) <= 1
