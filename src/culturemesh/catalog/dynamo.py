"""The registry in DynamoDB: one table, single-table design, as ``infra/terraform/modules/registry``
provisions it (hash key ``pk``, range key ``sk``, index ``gsi1`` on ``gsi1pk``/``gsi1sk``; the
README there documents every item). ``<id>`` is ``<domain>/<name>``:

=================  =====================  ==============================  ==============  ==========================
item               pk                     sk                              gsi1pk          gsi1sk
=================  =====================  ==============================  ==============  ==========================
product            PRODUCT#<id>           PRODUCT                         CATALOG         PRODUCT#<id>
output port        PRODUCT#<id>           PORT#<port>
version            PRODUCT#<id>           VERSION#<port>#<version>
subscription       PRODUCT#<id> or #*     SUBSCRIPTION#<port>#<name>      SUBSCRIBER#<n>  PRODUCT#<id>#<port>
lineage edge       PRODUCT#<downstream>   UPSTREAM#<upstream>#<port>      PRODUCT#<up>    DOWNSTREAM#<down>#<port>
stale mark         PRODUCT#<id>           STALE#<port>#<version>
=================  =====================  ==============================  ==============  ==========================

Each item keeps its record as JSON in ``record`` (the same form as the SQLite backend). Writes
that must not race are conditional: a version is created only if absent, a product is replaced
only if its digest is still the one read, a stale mark is claimed only if absent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from culturemesh.catalog import codec
from culturemesh.catalog.registry import (
    ANY,
    Lineage,
    LineageEdge,
    ProductNotFound,
    ProductRecord,
    RegistryConflict,
    RegistryError,
    RegistryUnavailable,
    StaleMark,
    SubscriptionRecord,
    VersionNotFound,
    VersionRecord,
    build_product,
    check_version,
    newest_first,
    same_subscription,
    version_of_input,
    version_record,
)
from culturemesh.events import now_iso
from culturemesh.versions import Manifest

_CATALOG = "CATALOG"


def _pk(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoRegistry:
    def __init__(self, client: Any, table: str, *, clock: Callable[[], str] = now_iso) -> None:
        self._client, self.table, self._clock = client, table, clock

    def close(self) -> None:
        pass

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call; a missing table or an unreachable endpoint is :class:`RegistryUnavailable`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(TableName=self.table, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                reason = f"table {self.table!r} does not exist; provision it (infra/terraform/modules/registry)"
                raise RegistryUnavailable("dynamodb", reason) from None
            raise
        except BotoCoreError as exc:
            raise RegistryUnavailable("dynamodb", str(exc)) from None

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call("query", **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _partition(self, product_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": _s(_pk(product_id)), ":prefix": _s(prefix)},
            ConsistentRead=True,
        )

    # products ---------------------------------------------------------------------------------
    def register_product(self, descriptor_yaml: str, *, source: str = "<descriptor>") -> ProductRecord:
        record = build_product(descriptor_yaml, source, self._clock())
        for _ in range(5):
            stored = self._get_product(record.id)
            if stored is not None and stored.digest == record.digest:
                return stored
            if stored is not None:
                record = replace(record, registered=stored.registered)
            try:
                self._write_product(record, stored)
                return record
            except _Lost:
                continue  # another process registered it meanwhile: read again
        raise RegistryConflict(f"data product {record.id}", "too many concurrent registrations; try again")

    def _write_product(self, record: ProductRecord, stored: ProductRecord | None) -> None:
        pk = _pk(record.id)
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if stored is None
            else {"ConditionExpression": "digest = :old", "ExpressionAttributeValues": {":old": _s(stored.digest)}}
        )
        item = {
            "pk": _s(pk),
            "sk": _s("PRODUCT"),
            "gsi1pk": _s(_CATALOG),
            "gsi1sk": _s(pk),
            "digest": _s(record.digest),
            "title": _s(record.summary),
            "owner": _s(record.owner.name),
            "updated": _s(record.updated),
            "record": _s(json.dumps(codec.product_to_dict(record))),
        }
        actions: list[dict[str, Any]] = [{"Put": {"TableName": self.table, "Item": item, **condition}}]
        for port in record.ports:
            port_item = {"pk": _s(pk), "sk": _s(f"PORT#{port.name}"), "record": _s(json.dumps(_asdict(port)))}
            actions.append({"Put": {"TableName": self.table, "Item": port_item}})
        names = {port.name for port in record.ports}
        for old in stored.ports if stored else ():
            if old.name not in names:
                actions.append(
                    {"Delete": {"TableName": self.table, "Key": {"pk": _s(pk), "sk": _s(f"PORT#{old.name}")}}}
                )
        actions += self._declared_edge_actions(record)
        self._transact(actions)

    def _declared_edge_actions(self, record: ProductRecord) -> list[dict[str, Any]]:
        declared = {(ref.product, ref.port) for ref in record.inputs}
        actions = [
            self._edge_update(record.id, product, port, record.updated, declared=True) for product, port in declared
        ]
        for edge in self._upstream_edges(record.id):
            if edge.declared and (edge.upstream, edge.upstream_port) not in declared:
                key = {"pk": _s(_pk(record.id)), "sk": _s(f"UPSTREAM#{edge.upstream}#{edge.upstream_port}")}
                if edge.last_version:
                    actions.append(self._edge_update(record.id, edge.upstream, edge.upstream_port, "", declared=False))
                else:
                    actions.append({"Delete": {"TableName": self.table, "Key": key}})
        return actions

    def _edge_update(
        self, downstream: str, upstream: str, port: str, now: str, *, declared: bool | None = None, version: str = ""
    ) -> dict[str, Any]:
        sets = ["gsi1pk = :gpk", "gsi1sk = :gsk", "first_seen = if_not_exists(first_seen, :now)"]
        values: dict[str, Any] = {
            ":gpk": _s(_pk(upstream)),
            ":gsk": _s(f"DOWNSTREAM#{downstream}#{port}"),
            ":now": _s(now or self._clock()),
        }
        if declared is not None:
            sets.append("declared = :declared")
            values[":declared"] = {"BOOL": declared}
        else:
            sets.append("declared = if_not_exists(declared, :false)")
            values[":false"] = {"BOOL": False}
        sets.append("last_version = :version" if version else "last_version = if_not_exists(last_version, :version)")
        values[":version"] = _s(version)
        key = {"pk": _s(_pk(downstream)), "sk": _s(f"UPSTREAM#{upstream}#{port}")}
        update = {"TableName": self.table, "Key": key, "UpdateExpression": "SET " + ", ".join(sets)}
        return {"Update": {**update, "ExpressionAttributeValues": values}}

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        """One transaction; :class:`_Lost` when a condition failed. A transaction that collided
        with a concurrent one on the same items (``TransactionConflict``) is retried."""
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(6):
            try:
                self._client.transact_write_items(TransactItems=actions)
                return
            except ClientError as exc:
                error = exc.response.get("Error", {})
                reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])} | {error.get("Message")}
                if error.get("Code") == "TransactionCanceledException":
                    if "ConditionalCheckFailed" in reasons or "ConditionalCheckFailed" in str(reasons):
                        raise _Lost from None
                    if "TransactionConflict" in str(reasons):
                        time.sleep(0.05 * (attempt + 1))
                        continue
                if error.get("Code") == "ResourceNotFoundException":
                    raise RegistryUnavailable("dynamodb", f"table {self.table!r} does not exist") from None
                raise
            except BotoCoreError as exc:
                raise RegistryUnavailable("dynamodb", str(exc)) from None
        raise RegistryConflict(f"table {self.table}", "a transaction kept colliding with concurrent ones; try again")

    def _get_product(self, product_id: str) -> ProductRecord | None:
        item = self._call("get_item", Key={"pk": _s(_pk(product_id)), "sk": _s("PRODUCT")}, ConsistentRead=True).get(
            "Item"
        )
        return codec.product_from_dict(json.loads(item["record"]["S"])) if item else None

    def product(self, product_id: str) -> ProductRecord:
        found = self._get_product(product_id)
        if found is None:
            raise ProductNotFound(product_id)
        return found

    def products(self) -> list[ProductRecord]:
        items = self._query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :catalog",
            ExpressionAttributeValues={":catalog": _s(_CATALOG)},
        )
        found = [codec.product_from_dict(json.loads(item["record"]["S"])) for item in items]
        return sorted(found, key=lambda record: record.id)

    # versions ---------------------------------------------------------------------------------
    def register_version(self, manifest: Manifest, manifest_uri: str) -> VersionRecord:
        check_version(self.product(manifest.dataproduct), manifest)
        record = version_record(manifest, manifest_uri, self._clock())
        key = codec.manifest_key(manifest)
        item = {
            "pk": _s(_pk(record.product)),
            "sk": _s(f"VERSION#{record.port}#{record.version}"),
            "created": _s(record.created),
            "manifest_uri": _s(manifest_uri),
            "manifest": _s(key),
            "record": _s(json.dumps(codec.version_to_dict(record))),
        }
        put = {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        edges = [
            self._edge_update(
                record.product,
                ref.product,
                ref.port,
                record.registered,
                version=version_of_input(manifest, ref) or record.version,
            )
            for ref in record.upstreams
        ]
        try:
            self._transact([{"Put": put}, *edges])
        except _Lost:
            stored = self.version(record.product, record.port, record.version)
            if codec.manifest_key(stored.manifest) != key:
                raise RegistryConflict(
                    f"{record.product} port {record.port} version {record.version}",
                    "already registered with a different manifest; a version is immutable",
                ) from None
            return stored
        return record

    def versions(self, product_id: str, port: str | None = None) -> list[VersionRecord]:
        self.product(product_id)
        items = self._partition(product_id, f"VERSION#{port}#" if port is not None else "VERSION#")
        return newest_first([codec.version_from_dict(json.loads(item["record"]["S"])) for item in items])

    def version(self, product_id: str, port: str, version: str) -> VersionRecord:
        self.product(product_id).port(port)
        key = {"pk": _s(_pk(product_id)), "sk": _s(f"VERSION#{port}#{version}")}
        item = self._call("get_item", Key=key, ConsistentRead=True).get("Item")
        if item is None:
            raise VersionNotFound(product_id, port, version)
        return codec.version_from_dict(json.loads(item["record"]["S"]))

    def latest_version(self, product_id: str, port: str) -> VersionRecord | None:
        self.product(product_id).port(port)
        found = self.versions(product_id, port)
        return found[0] if found else None

    # subscriptions ----------------------------------------------------------------------------
    def put_subscription(self, subscription: SubscriptionRecord) -> SubscriptionRecord:
        for stored in self._subscriptions_of(subscription.product):
            if stored.name == subscription.name:
                if same_subscription(stored, subscription):
                    return stored
                self._delete_subscription(stored)
        item = {
            "pk": _s(_pk(subscription.product)),
            "sk": _s(f"SUBSCRIPTION#{subscription.port}#{subscription.name}"),
            "gsi1pk": _s(f"SUBSCRIBER#{subscription.name}"),
            "gsi1sk": _s(f"PRODUCT#{subscription.product}#{subscription.port}"),
            "record": _s(json.dumps(codec.subscription_to_dict(subscription))),
        }
        self._call("put_item", Item=item)
        return subscription

    def _delete_subscription(self, record: SubscriptionRecord) -> None:
        key = {"pk": _s(_pk(record.product)), "sk": _s(f"SUBSCRIPTION#{record.port}#{record.name}")}
        self._call("delete_item", Key=key)

    def _subscriptions_of(self, product_id: str) -> list[SubscriptionRecord]:
        items = self._partition(product_id, "SUBSCRIPTION#")
        return [codec.subscription_from_dict(json.loads(item["record"]["S"])) for item in items]

    def remove_subscription(self, product_id: str, name: str) -> bool:
        found = [record for record in self._subscriptions_of(product_id) if record.name == name]
        for record in found:
            self._delete_subscription(record)
        return bool(found)

    def subscriptions(self, product_id: str | None = None) -> list[SubscriptionRecord]:
        if product_id is None:
            found = [
                codec.subscription_from_dict(json.loads(item["record"]["S"])) for item in self._scan_subscriptions()
            ]
        else:
            found = self._subscriptions_of(product_id) + (self._subscriptions_of(ANY) if product_id != ANY else [])
        return sorted(found, key=lambda record: (record.product, record.name))

    def _scan_subscriptions(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "FilterExpression": "begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":prefix": _s("SUBSCRIPTION#")},
        }
        while True:
            page = self._call("scan", **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # lineage and freshness --------------------------------------------------------------------
    def _upstream_edges(self, product_id: str) -> list[LineageEdge]:
        return [_edge(item) for item in self._partition(product_id, "UPSTREAM#")]

    def lineage(self, product_id: str) -> Lineage:
        self.product(product_id)
        down = self._query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": _s(_pk(product_id)), ":prefix": _s("DOWNSTREAM#")},
        )
        downstream = sorted((_edge(item) for item in down), key=lambda e: (e.downstream, e.upstream_port))
        upstream = sorted(self._upstream_edges(product_id), key=lambda e: (e.upstream, e.upstream_port))
        return Lineage(product_id, tuple(upstream), tuple(downstream))

    def mark_stale(self, mark: StaleMark) -> bool:
        from botocore.exceptions import ClientError

        item = {
            "pk": _s(_pk(mark.product)),
            "sk": _s(f"STALE#{mark.port}#{mark.since_version}"),
            "due": _s(mark.due),
            "emitted": _s(mark.emitted or self._clock()),
        }
        try:
            self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def clear_stale(self, mark: StaleMark) -> None:
        self._call(
            "delete_item", Key={"pk": _s(_pk(mark.product)), "sk": _s(f"STALE#{mark.port}#{mark.since_version}")}
        )

    def stale_marks(self, product_id: str) -> list[StaleMark]:
        marks = []
        for item in self._partition(product_id, "STALE#"):
            port, _, version = item["sk"]["S"].removeprefix("STALE#").partition("#")
            marks.append(StaleMark(product_id, port, version, item["due"]["S"], item["emitted"]["S"]))
        return sorted(marks, key=lambda m: (m.port, m.due))


class _Lost(RegistryError):
    """A conditional write lost against a concurrent one (internal: callers re-read)."""


def _asdict(value: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(value)


def _edge(item: dict[str, Any]) -> LineageEdge:
    downstream = item["pk"]["S"].removeprefix("PRODUCT#")
    upstream, _, port = item["sk"]["S"].removeprefix("UPSTREAM#").rpartition("#")
    return LineageEdge(
        downstream=downstream,
        upstream=upstream,
        upstream_port=port,
        declared=bool(item.get("declared", {}).get("BOOL", False)),
        last_version=item.get("last_version", {}).get("S", ""),
        first_seen=item.get("first_seen", {}).get("S", ""),
    )


def create_table(client: Any, table: str) -> None:
    """Create the table as the Terraform module does (for a local DynamoDB or a moto server)."""
    strings = [{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")]
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=strings,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    client.get_waiter("table_exists").wait(TableName=table)
