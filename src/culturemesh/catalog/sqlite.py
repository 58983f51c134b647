"""The embedded registry: one SQLite file (``<home>/registry.sqlite``) in WAL mode.

Several processes share it (the mesh, each product function registering what it publishes, the
CLI): every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers queue on SQLite's
lock (up to ``timeout`` seconds) instead of interleaving, and readers never block on writers.
Records are stored as JSON (see :mod:`culturemesh.catalog.codec`) beside the columns queries use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from culturemesh.catalog import codec
from culturemesh.catalog.registry import (
    ANY,
    Lineage,
    LineageEdge,
    ProductNotFound,
    ProductRecord,
    RegistryConflict,
    RegistryUnavailable,
    StaleMark,
    SubscriptionRecord,
    VersionNotFound,
    VersionRecord,
    build_product,
    check_version,
    same_subscription,
    version_of_input,
    version_record,
)
from culturemesh.events import now_iso
from culturemesh.versions import Manifest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, digest TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    product TEXT NOT NULL, port TEXT NOT NULL, version TEXT NOT NULL, created TEXT NOT NULL,
    manifest TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (product, port, version));
CREATE INDEX IF NOT EXISTS versions_by_time ON versions (product, port, created);
CREATE TABLE IF NOT EXISTS subscriptions (
    product TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (product, name));
CREATE TABLE IF NOT EXISTS edges (
    downstream TEXT NOT NULL, upstream TEXT NOT NULL, upstream_port TEXT NOT NULL,
    declared INTEGER NOT NULL, last_version TEXT NOT NULL, first_seen TEXT NOT NULL,
    PRIMARY KEY (downstream, upstream, upstream_port));
CREATE INDEX IF NOT EXISTS edges_by_upstream ON edges (upstream);
CREATE TABLE IF NOT EXISTS stale (
    product TEXT NOT NULL, port TEXT NOT NULL, since_version TEXT NOT NULL, due TEXT NOT NULL,
    emitted TEXT NOT NULL, PRIMARY KEY (product, port, since_version));
"""

_DECLARE_EDGE = (
    "INSERT INTO edges (downstream, upstream, upstream_port, declared, last_version, first_seen)"
    " VALUES (?, ?, ?, 1, '', ?) "
    "ON CONFLICT DO UPDATE SET declared = 1"
)
_SEE_EDGE = (
    "INSERT INTO edges (downstream, upstream, upstream_port, declared, last_version, first_seen)"
    " VALUES (?, ?, ?, 0, ?, ?) "
    "ON CONFLICT DO UPDATE SET last_version = excluded.last_version"
)
_VERSIONS = (
    "SELECT record FROM versions WHERE product = ? AND (? IS NULL OR port = ?) ORDER BY created DESC, version DESC"
)
_UPSTREAM = (
    "SELECT downstream, upstream, upstream_port, declared, last_version, first_seen"
    " FROM edges WHERE downstream = ? ORDER BY upstream, upstream_port"
)
_DOWNSTREAM = (
    "SELECT downstream, upstream, upstream_port, declared, last_version, first_seen"
    " FROM edges WHERE upstream = ? ORDER BY downstream, upstream_port"
)


class SqliteRegistry:
    def __init__(self, path: Path, *, timeout: float = 30.0, clock: Callable[[], str] = now_iso) -> None:
        self.path, self._clock, self._lock = Path(path), clock, threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)  # idempotent; concurrent openers wait on the lock
        except (OSError, sqlite3.Error) as exc:
            raise RegistryUnavailable(f"sqlite {self.path}", str(exc)) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # products ---------------------------------------------------------------------------------
    def register_product(self, descriptor_yaml: str, *, source: str = "<descriptor>") -> ProductRecord:
        record = build_product(descriptor_yaml, source, self._clock())
        with self._write() as db:
            row = db.execute("SELECT record FROM products WHERE id = ?", (record.id,)).fetchone()
            if row is not None:
                stored = codec.product_from_dict(json.loads(row[0]))
                if stored.digest == record.digest:
                    return stored
                record = replace(record, registered=stored.registered)
            body = json.dumps(codec.product_to_dict(record))
            db.execute(
                "INSERT INTO products (id, digest, record) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, record = excluded.record",
                (record.id, record.digest, body),
            )
            self._declare_edges(db, record)
        return record

    def _declare_edges(self, db: sqlite3.Connection, record: ProductRecord) -> None:
        db.execute("UPDATE edges SET declared = 0 WHERE downstream = ?", (record.id,))
        for ref in record.inputs:
            db.execute(
                _DECLARE_EDGE,
                (record.id, ref.product, ref.port, record.updated),
            )
        db.execute("DELETE FROM edges WHERE downstream = ? AND declared = 0 AND last_version = ''", (record.id,))

    def product(self, product_id: str) -> ProductRecord:
        rows = self._rows("SELECT record FROM products WHERE id = ?", product_id)
        if not rows:
            raise ProductNotFound(product_id)
        return codec.product_from_dict(json.loads(str(rows[0][0])))

    def products(self) -> list[ProductRecord]:
        rows = self._rows("SELECT record FROM products ORDER BY id")
        return [codec.product_from_dict(json.loads(str(row[0]))) for row in rows]

    # versions ---------------------------------------------------------------------------------
    def register_version(self, manifest: Manifest, manifest_uri: str) -> VersionRecord:
        check_version(self.product(manifest.dataproduct), manifest)
        record = version_record(manifest, manifest_uri, self._clock())
        key = codec.manifest_key(manifest)
        with self._write() as db:
            row = db.execute(
                "SELECT manifest, record FROM versions WHERE product = ? AND port = ? AND version = ?",
                (record.product, record.port, record.version),
            ).fetchone()
            if row is not None:
                if row[0] != key:
                    raise RegistryConflict(
                        f"{record.product} port {record.port} version {record.version}",
                        "already registered with a different manifest; a version is immutable",
                    )
                return codec.version_from_dict(json.loads(row[1]))
            db.execute(
                "INSERT INTO versions (product, port, version, created, manifest, record) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.product,
                    record.port,
                    record.version,
                    record.created,
                    key,
                    json.dumps(codec.version_to_dict(record)),
                ),
            )
            for ref in record.upstreams:
                db.execute(
                    _SEE_EDGE,
                    (
                        record.product,
                        ref.product,
                        ref.port,
                        version_of_input(manifest, ref) or record.version,
                        record.registered,
                    ),
                )
        return record

    def versions(self, product_id: str, port: str | None = None) -> list[VersionRecord]:
        self.product(product_id)
        rows = self._rows(
            _VERSIONS,
            product_id,
            port,
            port,
        )
        return [codec.version_from_dict(json.loads(str(row[0]))) for row in rows]

    def version(self, product_id: str, port: str, version: str) -> VersionRecord:
        self.product(product_id).port(port)
        rows = self._rows(
            "SELECT record FROM versions WHERE product = ? AND port = ? AND version = ?", product_id, port, version
        )
        if not rows:
            raise VersionNotFound(product_id, port, version)
        return codec.version_from_dict(json.loads(str(rows[0][0])))

    def latest_version(self, product_id: str, port: str) -> VersionRecord | None:
        self.product(product_id).port(port)
        found = self.versions(product_id, port)
        return found[0] if found else None

    # subscriptions ----------------------------------------------------------------------------
    def put_subscription(self, subscription: SubscriptionRecord) -> SubscriptionRecord:
        with self._write() as db:
            row = db.execute(
                "SELECT record FROM subscriptions WHERE product = ? AND name = ?",
                (subscription.product, subscription.name),
            ).fetchone()
            if row is not None:
                stored = codec.subscription_from_dict(json.loads(row[0]))
                if same_subscription(stored, subscription):
                    return stored
            db.execute(
                "INSERT INTO subscriptions (product, name, record) VALUES (?, ?, ?) "
                "ON CONFLICT DO UPDATE SET record = excluded.record",
                (subscription.product, subscription.name, json.dumps(codec.subscription_to_dict(subscription))),
            )
        return subscription

    def remove_subscription(self, product_id: str, name: str) -> bool:
        with self._write() as db:
            cursor = db.execute("DELETE FROM subscriptions WHERE product = ? AND name = ?", (product_id, name))
            return cursor.rowcount > 0

    def subscriptions(self, product_id: str | None = None) -> list[SubscriptionRecord]:
        if product_id is None:
            rows = self._rows("SELECT record FROM subscriptions ORDER BY product, name")
        else:
            rows = self._rows(
                "SELECT record FROM subscriptions WHERE product IN (?, ?) ORDER BY product, name", product_id, ANY
            )
        return [codec.subscription_from_dict(json.loads(str(row[0]))) for row in rows]

    # lineage and freshness --------------------------------------------------------------------
    def lineage(self, product_id: str) -> Lineage:
        self.product(product_id)
        up = self._rows(
            _UPSTREAM,
            product_id,
        )
        down = self._rows(
            _DOWNSTREAM,
            product_id,
        )
        return Lineage(product_id, tuple(_edge(row) for row in up), tuple(_edge(row) for row in down))

    def mark_stale(self, mark: StaleMark) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO stale (product, port, since_version, due, emitted) VALUES (?, ?, ?, ?, ?)",
                (mark.product, mark.port, mark.since_version, mark.due, mark.emitted or self._clock()),
            )
            return cursor.rowcount == 1

    def clear_stale(self, mark: StaleMark) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM stale WHERE product = ? AND port = ? AND since_version = ?",
                (mark.product, mark.port, mark.since_version),
            )

    def stale_marks(self, product_id: str) -> list[StaleMark]:
        rows = self._rows(
            "SELECT product, port, since_version, due, emitted FROM stale WHERE product = ? ORDER BY port, due",
            product_id,
        )
        return [StaleMark(*(str(value) for value in row)) for row in rows]


def _edge(row: tuple[object, ...]) -> LineageEdge:
    downstream, upstream, port, declared, last_version, first_seen = row
    return LineageEdge(str(downstream), str(upstream), str(port), bool(declared), str(last_version), str(first_seen))
