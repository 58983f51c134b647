"""Contract checking: column-wise over Arrow batches vs. a per-row Python baseline, same data, same run.

Prints both timings and the ratio baseline/vectorized; the goal is at least 5x (the time-zone
conversion of DateTime columns is most of what remains).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from culturemesh.contract import Column, check_batch

ROWS = 200_000
GOAL = 5.0  # a floor: a slide back to per-row Python lands near 1


def make_batch(rows: int) -> pa.RecordBatch:
    rng = random.Random(7)
    return pa.RecordBatch.from_pydict(
        {
            "ticket_id": [f"T-{i:07d}" for i in range(rows)],
            "sold_at": [
                f"2026-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
                for _ in range(rows)
            ],
            "event_date": [f"2026-12-{rng.randint(1, 31):02d}" for _ in range(rows)],
            "price": [f"{rng.randint(5, 60)}.{rng.choice(['00', '50'])}" for _ in range(rows)],
            "quantity": [str(rng.randint(1, 6)) for _ in range(rows)],
            "channel": [rng.choice(["online", "box-office", "uitpas"]) for _ in range(rows)],
        }
    )


COLUMNS = [
    Column("ticket_id", pa.string(), nullable=False),
    Column("sold_at", pa.timestamp("s", "Europe/Brussels"), nullable=False),
    Column("event_date", pa.date32(), nullable=False),
    Column("price", pa.decimal128(9, 2), nullable=False),
    Column("quantity", pa.int32(), nullable=False),
    Column("channel", pa.string(), nullable=False, enum=("online", "box-office", "uitpas")),
]


def per_row_baseline(batch: pa.RecordBatch) -> int:
    """What a row-at-a-time validator does: parse every value in Python."""
    from datetime import date, datetime

    bad = 0
    for row in batch.to_pylist():
        try:
            datetime.fromisoformat(row["sold_at"])
            date.fromisoformat(row["event_date"])
            Decimal(row["price"])
            int(row["quantity"])
            if row["channel"] not in ("online", "box-office", "uitpas") or not row["ticket_id"]:
                bad += 1
        except (ValueError, InvalidOperation):
            bad += 1
    return bad


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    batch = make_batch(ROWS)
    assert check_batch(batch, COLUMNS, first_row=1).violation_count == 0
    assert per_row_baseline(batch) == 0
    vectorized = best_of(3, lambda: check_batch(batch, COLUMNS, first_row=1))
    baseline = best_of(3, lambda: per_row_baseline(batch))
    ratio = baseline / vectorized
    print(f"rows {ROWS}")
    print(f"vectorized contract check  {vectorized * 1000:8.1f} ms  ({ROWS / vectorized / 1e6:.2f} M rows/s)")
    print(f"per-row Python baseline    {baseline * 1000:8.1f} ms  ({ROWS / baseline / 1e6:.2f} M rows/s)")
    print(f"ratio contract_vectorized_speedup = {ratio:.1f} (goal >= {GOAL})")


if __name__ == "__main__":
    main()
