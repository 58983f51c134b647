"""The broker's durable state in SQLite: applied objects, stored events and their deliveries.

An event is stored with one delivery row per matching trigger in the same transaction, before
the ingress answers 202; a restart turns deliveries that were in flight back into pending ones,
so delivery is at least once.

For an ordered trigger each delivery carries the event's ``partitionkey``; a delivery is only
claimed when no earlier delivery of the same trigger and key is still pending or in flight, so
events with one key reach the subscriber one at a time, in order (a failing event holds back
the ones behind it until it succeeds or is dead-lettered, as on a Kafka partition).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturemesh.envelope import Envelope

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name));
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, broker TEXT NOT NULL, attributes TEXT NOT NULL,
    data BLOB, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL REFERENCES events(seq),
    trigger TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL, last_status INTEGER, last_error TEXT, updated REAL NOT NULL,
    pkey TEXT);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (trigger, pkey, id) WHERE pkey IS NOT NULL;
"""

PENDING, INFLIGHT, DONE, DEAD = "pending", "inflight", "done", "dead"
# An ordered delivery waits while an earlier one of its trigger and partition key is unfinished.
_CLAIM = """
SELECT d.id, d.trigger, d.attempts, e.attributes, e.data FROM deliveries d JOIN events e ON e.seq = d.seq
WHERE d.state = ? AND d.next_at <= ? AND (d.pkey IS NULL OR NOT EXISTS (
    SELECT 1 FROM deliveries o WHERE o.trigger = d.trigger AND o.pkey = d.pkey AND o.id < d.id AND o.state IN (?, ?)))
ORDER BY d.id LIMIT ?
"""
_NEXT_DUE = """
SELECT MIN(d.next_at) FROM deliveries d
WHERE d.state = ? AND (d.pkey IS NULL OR NOT EXISTS (
    SELECT 1 FROM deliveries o WHERE o.trigger = d.trigger AND o.pkey = d.pkey AND o.id < d.id AND o.state IN (?, ?)))
"""


@dataclass(frozen=True)
class Delivery:
    id: int
    trigger: str
    attempts: int
    event: Envelope


class Queue:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.db.execute("UPDATE deliveries SET state=? WHERE state=?", (PENDING, INFLIGHT))
        self._settled: list[tuple[str, float | None, int | None, str, float, int]] = []

    def close(self) -> None:
        self.flush()
        self.db.close()

    # objects -------------------------------------------------------------------------------
    def put_object(self, kind: str, namespace: str, name: str, body: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)", (kind, namespace, name, json.dumps(body)))

    def delete_object(self, kind: str, namespace: str, name: str) -> bool:
        cursor = self.db.execute("DELETE FROM objects WHERE kind=? AND namespace=? AND name=?", (kind, namespace, name))
        return cursor.rowcount > 0

    def objects(self) -> Iterator[dict[str, Any]]:
        for (body,) in self.db.execute("SELECT body FROM objects ORDER BY kind, namespace, name"):
            yield json.loads(body)

    # events --------------------------------------------------------------------------------
    def enqueue(self, broker: str, event: Envelope, triggers: Iterable[tuple[str, str | None]]) -> None:
        """Store the event and one pending delivery per ``(trigger, partition key or None)``, atomically."""
        self.enqueue_many([(broker, event, list(triggers))])

    def enqueue_many(self, items: Sequence[tuple[str, Envelope, Sequence[tuple[str, str | None]]]]) -> None:
        """Store several events with their deliveries in one transaction (the ingress's group commit)."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for broker, event, triggers in items:
                cursor = self.db.execute(
                    "INSERT INTO events (broker, attributes, data, received) VALUES (?, ?, ?, ?)",
                    (broker, json.dumps(dict(event.attributes)), event.data, now),
                )
                seq = int(cursor.lastrowid or 0)
                self.db.executemany(
                    "INSERT INTO deliveries (seq, trigger, state, next_at, updated, pkey) VALUES (?, ?, ?, ?, ?, ?)",
                    [(seq, trigger, PENDING, now, now, key) for trigger, key in triggers],
                )

    def claim_due(self, limit: int) -> list[Delivery]:
        """Mark up to ``limit`` due deliveries in flight and return them, oldest first."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            rows = self.db.execute(
                _CLAIM,
                (PENDING, now, PENDING, INFLIGHT, limit),
            ).fetchall()
            self.db.executemany(
                "UPDATE deliveries SET state=?, updated=? WHERE id=?",
                [(INFLIGHT, now, row[0]) for row in rows],
            )
        return [Delivery(row[0], row[1], row[2], Envelope(json.loads(row[3]), row[4])) for row in rows]

    def next_due(self) -> float | None:
        """When the next claimable delivery falls due (ones held back by their partition excluded)."""
        row = self.db.execute(
            _NEXT_DUE,
            (PENDING, PENDING, INFLIGHT),
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def finish(self, delivery_id: int, state: str, status: int | None, error: str = "") -> None:
        """Record a final outcome; written with the next :meth:`flush` (a crash before it redelivers)."""
        self._settled.append((state, None, status, error[:500], time.time(), delivery_id))

    def retry_at(self, delivery_id: int, when: float, status: int | None, error: str) -> None:
        self._settled.append((PENDING, when, status, error[:500], time.time(), delivery_id))

    def flush(self) -> None:
        """Write the outcomes recorded since the last flush, in one transaction."""
        if not self._settled:
            return
        settled, self._settled = self._settled, []
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "UPDATE deliveries SET state=?, next_at=COALESCE(?, next_at), attempts=attempts+1, last_status=?, "
                "last_error=?, updated=? WHERE id=?",
                settled,
            )

    def depth(self) -> dict[str, dict[str, int]]:
        """Per trigger: how many deliveries are pending, in flight, done and dead."""
        self.flush()
        result: dict[str, dict[str, int]] = {}
        for trigger, state, count in self.db.execute(
            "SELECT trigger, state, COUNT(*) FROM deliveries GROUP BY trigger, state"
        ):
            result.setdefault(trigger, {PENDING: 0, INFLIGHT: 0, DONE: 0, DEAD: 0})[state] = count
        return result

    def dead_letters(self, limit: int = 20) -> list[dict[str, Any]]:
        self.flush()
        rows = self.db.execute(
            "SELECT d.trigger, d.attempts, d.last_status, d.last_error, e.attributes FROM deliveries d "
            "JOIN events e ON e.seq = d.seq WHERE d.state=? ORDER BY d.id DESC LIMIT ?",
            (DEAD, limit),
        )
        return [
            {"trigger": t, "attempts": a, "status": s, "error": err, "id": json.loads(attrs).get("id")}
            for t, a, s, err, attrs in rows
        ]
