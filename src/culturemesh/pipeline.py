"""Overlapping the stages of an ingest: parse the next block while this one is checked, and encode
the last one while the next is parsed.

Arrow's CSV reader, its compute kernels and the Parquet writer release the GIL, so on two cores
the stages of one upload run side by side. Both helpers keep the order of the work, bound how
much is in flight (memory stays a few blocks), and re-raise a stage's error in the caller at the
point where the caller would have met it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """Yields ``items`` in order while a thread produces up to ``depth`` items ahead."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(value: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # noqa: BLE001  (not swallowed: the consumer re-raises it)
            offer(_Failure(exc))

    producer = threading.Thread(target=produce, name="culturemesh-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value  # type: ignore[misc]  # every other value is an item of ``items``
    finally:
        stop.set()
        producer.join()


class Background(Generic[T]):
    """Runs calls one after another on one thread, in submission order, with at most ``depth``
    waiting; :meth:`submit` and :meth:`drain` re-raise the first call that failed."""

    def __init__(self, depth: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="culturemesh-writer")
        self._pending: list[Future[T]] = []
        self._depth = depth

    def submit(self, call: Callable[[], T]) -> None:
        while len(self._pending) >= self._depth:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(call))

    def drain(self) -> None:
        while self._pending:
            self._pending.pop(0).result()

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.drain()
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
