"""JSON Schema record contracts: schemacheck over an Arrow batch vs. jsonschema row by row, same data.

Prints both timings and the ratio jsonschema/schemacheck; the goal is at least 20x. Both sides
check the same 200,000 records against the same schema and must agree on which rows are invalid
(a few bad rows are planted so the violation path is timed too).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from jsonschema import Draft202012Validator

from culturemesh.schemacheck import compile_record_schema

ROWS = 200_000
GOAL = 20.0  # a floor: a slide back to per-row Python lands near 1
BAD_EVERY = 997

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ticket_id": {"type": "string", "pattern": "^T-[0-9]{7}$"},
        "sold_at": {"type": "string", "format": "date-time"},
        "event_date": {"type": "string", "format": "date"},
        "price": {"type": "number", "minimum": 0, "maximum": 500, "multipleOf": 0.5},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10},
        "channel": {"enum": ["online", "box-office", "uitpas"]},
    },
    "required": ["ticket_id", "sold_at", "event_date", "price", "quantity", "channel"],
    "additionalProperties": False,
}


def make_records(rows: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    records = [
        {
            "ticket_id": f"T-{i:07d}",
            "sold_at": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            "event_date": f"2026-12-{rng.randint(1, 31):02d}",
            "price": rng.randint(10, 120) / 2,
            "quantity": rng.randint(1, 6),
            "channel": rng.choice(["online", "box-office", "uitpas"]),
        }
        for i in range(rows)
    ]
    for i in range(0, rows, BAD_EVERY):
        records[i]["price"] = -1.25
    return records


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    records = make_records(ROWS)
    text = pa.string()
    arrow = pa.schema(
        {
            "ticket_id": text,
            "sold_at": text,
            "event_date": text,
            "price": pa.float64(),
            "quantity": pa.int64(),
            "channel": text,
        }
    )
    batch = pa.RecordBatch.from_pylist(records, schema=arrow)
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    check = compile_record_schema(SCHEMA)

    result = check.check(batch, first_row=1)
    invalid = {i for i, ok in enumerate(result.valid.to_pylist()) if not ok}
    assert invalid == {i for i, record in enumerate(records) if not validator.is_valid(record)}
    assert len(invalid) == len(range(0, ROWS, BAD_EVERY))

    vectorized = best_of(3, lambda: check.check(batch, first_row=1))
    baseline = best_of(1, lambda: [list(validator.iter_errors(record)) for record in records])
    ratio = baseline / vectorized
    print(f"rows {ROWS}, invalid {len(invalid)}")
    print(f"schemacheck over the batch    {vectorized * 1000:9.1f} ms  ({ROWS / vectorized / 1e6:.2f} M rows/s)")
    print(f"jsonschema row by row         {baseline * 1000:9.1f} ms  ({ROWS / baseline / 1e6:.2f} M rows/s)")
    print(f"ratio schemacheck_vs_jsonschema = {ratio:.1f} (goal >= {GOAL:.0f})")


if __name__ == "__main__":
    main()
