"""The platform's own Services in a cluster, as the Terraform modules provision them: the dead-letter
sink (bucket, key, role) and the catalog's freshness check (role). What each role and key policy
allows is evaluated from the modules' own expressions (``hcl_eval``) and held against the
generated manifests and, for the catalog role, against the DynamoDB calls the freshness check
really makes (recorded against the moto server)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import boto3
import pytest

from culturemesh import deadletters
from culturemesh.catalog import freshness
from culturemesh.catalog.dynamo import DynamoRegistry, create_table
from culturemesh.catalog.freshness import iso, parse_time
from culturemesh.deploy import catalog, irsa, knative
from culturemesh.envelope import Envelope
from culturemesh.errors import MeshUnavailable
from culturemesh.settings import DEFAULT_NAMESPACE
from tests.catalog.conftest import descriptor_text, manifest, manifest_uri
from tests.infra import hcl_eval
from tests.infra.test_terraform import (
    ACCOUNT,
    MODULES,
    SINK_ROLE,
    each,
    iam_scope,
    kms_scope,
    operator_example,
    trusted_subjects,
)

KMS_MAIN = MODULES / "kms" / "main.tf"
IAM_MAIN = MODULES / "iam" / "main.tf"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/culturemesh-registry"
ADMIN = {
    "Sid": "AccountAdministersKey",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def subject(service: Mapping[str, Any]) -> str:
    account = service["spec"]["template"]["spec"]["serviceAccountName"]
    return f"system:serviceaccount:{service['metadata']['namespace']}:{account}"


# ---------------------------------------------------------------------------------------------
# Trust: each role admits exactly the ServiceAccount its generated Service runs as


def test_the_dead_letter_role_trusts_exactly_the_service_account_the_generated_sink_runs_as() -> None:
    sink = knative.dead_letter_sink()
    assert trusted_subjects()["dead-letters"] == [subject(sink)]
    assert subject(sink) == f"system:serviceaccount:{DEFAULT_NAMESPACE}:{irsa.DEAD_LETTERS_ACCOUNT}"


def test_the_catalog_role_trusts_exactly_the_service_account_the_generated_check_runs_as() -> None:
    service = catalog.service()
    assert trusted_subjects()["catalog"] == [subject(service)]
    others = {k: v for k, v in trusted_subjects().items() if k != "catalog"}
    assert all(subject(service) not in admitted for admitted in others.values())


# ---------------------------------------------------------------------------------------------
# The dead-letter key


def platform_key_policy(principal_role_arns: dict[str, str] | None = None) -> dict[str, Any]:
    scope = kms_scope({}, principal_role_arns)
    key = hcl_eval.block_of(KMS_MAIN, "resource", "aws_kms_key", "platform")
    (name,) = hcl_eval.evaluate(hcl_eval.attribute(key, "for_each"), scope)
    value = scope["local"]["platform_keys"][name]
    policy: dict[str, Any] = json.loads(
        hcl_eval.evaluate(hcl_eval.attribute(key, "policy"), {**scope, **each(name, value)})
    )
    return policy


def test_the_dead_letter_key_has_the_alias_the_sink_seals_under_and_rotates() -> None:
    scope = kms_scope({})
    alias = hcl_eval.block_of(KMS_MAIN, "resource", "aws_kms_alias", "platform")
    names = [
        hcl_eval.evaluate(hcl_eval.attribute(alias, "name"), {**scope, **each(k, v)})
        for k, v in hcl_eval.evaluate(hcl_eval.attribute(alias, "for_each"), scope).items()
    ]
    assert names == [deadletters.KEY]
    key = hcl_eval.block_of(KMS_MAIN, "resource", "aws_kms_key", "platform")
    assert hcl_eval.evaluate(hcl_eval.attribute(key, "enable_key_rotation"), scope) is True


def test_the_dead_letter_key_policy_lets_exactly_the_sink_role_seal_and_the_operator_decrypt() -> None:
    admin, *statements = platform_key_policy()["Statement"]
    assert admin == ADMIN
    granted: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*" and "Condition" not in statement
        principals = statement["Principal"]["AWS"]
        for arn in [principals] if isinstance(principals, str) else principals:
            granted.setdefault(arn, set()).update(statement["Action"])
    operator = operator_example()["consumer_role_arns"]["operator"]
    assert granted == {SINK_ROLE: {"kms:Encrypt", "kms:GenerateDataKey"}, operator: {"kms:Decrypt"}}
    assert SINK_ROLE.endswith(f":role/{irsa.DEAD_LETTERS_ROLE}")


def test_the_sink_role_is_the_principal_the_kms_module_gets_from_the_iam_module() -> None:
    output = hcl_eval.block_of(MODULES / "iam" / "outputs.tf", "output", "platform_role_arns")
    scope = {"aws_iam_role": {"dead_letters": {"arn": "arn:sink-role"}}}
    assert hcl_eval.evaluate(hcl_eval.attribute(output, "value"), scope) == {deadletters.PRINCIPAL: "arn:sink-role"}


def test_the_dead_letter_key_refuses_to_plan_without_an_operator_role() -> None:
    arns = {k: v for k, v in operator_example()["consumer_role_arns"].items() if k != "operator"}
    scope = kms_scope({}, arns)
    key = hcl_eval.block_of(KMS_MAIN, "resource", "aws_kms_key", "platform")
    (lifecycle,) = hcl_eval.nested_blocks(key, "lifecycle")
    inner = {**scope, **each("platform/dead-letters", scope["local"]["platform_keys"]["platform/dead-letters"])}
    refused = [
        hcl_eval.evaluate(hcl_eval.attribute(p, "error_message"), inner)
        for p in hcl_eval.nested_blocks(lifecycle, "precondition")
        if not hcl_eval.evaluate(hcl_eval.attribute(p, "condition"), inner)
    ]
    assert refused == [
        "No role ARN for operator, reader of platform/dead-letters: add it to consumer_role_arns "
        "(the kms module's principal_role_arns)."
    ]


# ---------------------------------------------------------------------------------------------
# Role policies, evaluated with their conditions


def policy(document: str) -> list[dict[str, Any]]:
    """The statements of an aws_iam_policy_document of the iam module, conditions included."""
    scope = iam_scope()
    arns = {b: f"arn:aws:s3:::culturemesh-{b}" for b in ("landing", "products", "reports", "dead-letters")}
    variables = {
        "bucket_arns": arns,
        "storage_kms_key_arn": "arn:storage-key",
        "registry_table_arn": TABLE_ARN,
        "registry_kms_key_arn": "arn:table-key",
    }
    scope = {**scope, "var": {**scope["var"], **variables}}
    body = hcl_eval.block_of(IAM_MAIN, "data", "aws_iam_policy_document", document)
    found = []
    for s in hcl_eval.nested_blocks(body, "statement"):
        statement = {
            name: hcl_eval.evaluate(hcl_eval.attribute(s, name), scope) for name in ("sid", "actions", "resources")
        }
        statement["conditions"] = [
            tuple(hcl_eval.evaluate(hcl_eval.attribute(c, n), scope) for n in ("test", "variable", "values"))
            for c in hcl_eval.nested_blocks(s, "condition")
        ]
        found.append(statement)
    return found


def _condition_holds(test: str, values: Sequence[str], context: Mapping[str, Any], key: str) -> bool:
    """The IAM condition operators these policies use, with IAM's semantics for a missing key."""
    present = context.get(key)
    if test == "Null":
        return (present is None) == (values == ["true"])
    if test.startswith("ForAllValues:"):  # every value in the request is allowed; no values: true
        match = fnmatch.fnmatchcase if test.endswith("StringLike") else str.__eq__
        return all(any(match(v, allowed) for allowed in values) for v in present or [])
    if present is None:
        return test.endswith("IfExists")
    like = test.removesuffix("IfExists") == "StringLike"
    return any((fnmatch.fnmatchcase if like else str.__eq__)(present, allowed) for allowed in values)


def allowed(statements: list[dict[str, Any]], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    return any(
        any(fnmatch.fnmatchcase(action, a) for a in s["actions"])
        and any(fnmatch.fnmatchcase(resource, r) for r in s["resources"])
        and all(_condition_holds(test, values, context, key) for test, key, values in s["conditions"])
        for s in statements
    )


def test_the_sink_role_may_only_put_into_the_dead_letter_bucket_and_find_it() -> None:
    sink = policy("dead_letters")
    bucket = "arn:aws:s3:::culturemesh-dead-letters"
    assert allowed(sink, "s3:PutObject", f"{bucket}/2026-11-28/abc.json", {})
    assert allowed(sink, "s3:ListBucket", bucket, {})  # HeadBucket: no s3:prefix
    assert not allowed(sink, "s3:ListBucket", bucket, {"s3:prefix": "2026-11-28/"})
    assert not allowed(sink, "s3:GetObject", f"{bucket}/2026-11-28/abc.json", {})
    assert not allowed(sink, "s3:DeleteObject", f"{bucket}/2026-11-28/abc.json", {})
    assert not allowed(sink, "s3:PutObject", "arn:aws:s3:::culturemesh-products/ticketing/x", {})
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    assert allowed(sink, "kms:GenerateDataKey", "arn:storage-key", via_s3)
    assert not allowed(sink, "kms:GenerateDataKey", "arn:storage-key", {})
    assert [a for s in sink for a in s["actions"] if a.startswith(("dynamodb:", "sqs:"))] == []


# -- the catalog role against the calls the freshness check makes -------------------------------


def _leading_key(operation: str, params: Mapping[str, Any]) -> list[str]:
    if operation == "Query":  # the partition key's equality, first in every KeyConditionExpression here
        found = re.match(r"(\w+) = (:\w+)", params["KeyConditionExpression"])
        assert found is not None and found.group(1) in ("pk", "gsi1pk"), params["KeyConditionExpression"]
        return [params["ExpressionAttributeValues"][found.group(2)]["S"]]
    item = params.get("Item") or params["Key"]
    return [item["pk"]["S"]]


def request(operation: str, params: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """What IAM sees of a DynamoDB call: action, resource and the dynamodb condition keys."""
    resource = f"{TABLE_ARN}/index/{params['IndexName']}" if "IndexName" in params else TABLE_ARN
    context: dict[str, Any] = {"dynamodb:LeadingKeys": _leading_key(operation, params)}
    if operation in ("PutItem", "DeleteItem", "GetItem"):
        context["dynamodb:Attributes"] = sorted(params.get("Item") or params["Key"])
    return f"dynamodb:{operation}", resource, context


@pytest.fixture
def recorded_check_calls(moto_endpoint: str) -> list[tuple[str, dict[str, Any]]]:
    """The DynamoDB calls of two checks on a registry with one late port: the first claims and
    publishes, the second (a new lateness, the sink refusing) claims and releases."""

    def client() -> Any:
        return boto3.client(
            "dynamodb", endpoint_url=moto_endpoint, region_name="eu-west-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    setup, checker = client(), client()
    table = "cm-roles-registry"
    create_table(setup, table)
    admin = DynamoRegistry(setup, table)
    record = admin.register_product(descriptor_text("uit-events"))
    start = parse_time(record.registered)
    late = manifest("events/uit-events", "events", "v1", iso(start - timedelta(days=2)))
    admin.register_version(late, manifest_uri(late))

    calls: list[tuple[str, dict[str, Any]]] = []
    checker.meta.events.register(
        "provide-client-params.dynamodb.*", lambda params, model, **_: calls.append((model.name, dict(params)))
    )
    registry = DynamoRegistry(checker, table)
    sent: list[Envelope] = []
    assert len(freshness.check(registry, sent.extend, start)) == 1

    newer = manifest("events/uit-events", "events", "v2", iso(start - timedelta(days=1)))
    admin.register_version(newer, manifest_uri(newer))

    def refuse(found: Sequence[Envelope]) -> None:
        raise MeshUnavailable("http://broker", "refused")

    with pytest.raises(MeshUnavailable):
        freshness.check(registry, refuse, start)
    return calls


def test_the_catalog_role_allows_every_call_the_freshness_check_makes(
    recorded_check_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    operations = {operation for operation, _ in recorded_check_calls}
    assert {"Query", "GetItem", "PutItem", "DeleteItem"} <= operations  # the check really wrote and released
    statements = policy("catalog")
    refused = [(op, p) for op, p in recorded_check_calls if not allowed(statements, *request(op, p))]
    assert refused == []


def test_the_catalog_role_grants_only_the_check_s_kinds_of_call() -> None:
    actions = {a for s in policy("catalog") for a in s["actions"] if a.startswith("dynamodb:")}
    assert actions == {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}


def _put(item: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    return request("PutItem", {"Item": {k: {"S": v} for k, v in item.items()}})


@pytest.mark.parametrize(
    ("what", "call"),
    [
        ("a product item (it has a record)", _put({"pk": "PRODUCT#a/b", "sk": "PRODUCT", "record": "{}"})),
        ("a version item", _put({"pk": "PRODUCT#a/b", "sk": "VERSION#p#v", "record": "{}", "manifest": "x"})),
        ("an item outside the product partitions", _put({"pk": "ADMIN", "sk": "STALE#p#v", "due": "d"})),
        (
            "the subscriptions of a consumer (gsi1)",
            request(
                "Query",
                {
                    "IndexName": "gsi1",
                    "KeyConditionExpression": "gsi1pk = :s",
                    "ExpressionAttributeValues": {":s": {"S": "SUBSCRIBER#x"}},
                },
            ),
        ),
        ("an UpdateItem", ("dynamodb:UpdateItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["PRODUCT#a/b"]})),
        ("a Scan", ("dynamodb:Scan", TABLE_ARN, {})),
        (
            "another table",
            ("dynamodb:GetItem", TABLE_ARN.replace("registry", "other"), {"dynamodb:LeadingKeys": ["PRODUCT#a/b"]}),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_catalog_role_refuses(what: str, call: tuple[str, str, dict[str, Any]]) -> None:
    assert not allowed(policy("catalog"), *call), what


def test_the_catalog_role_uses_the_table_key_only_through_dynamodb() -> None:
    statements = policy("catalog")
    assert allowed(statements, "kms:Decrypt", "arn:table-key", {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"})
    assert not allowed(statements, "kms:Decrypt", "arn:table-key", {})
    assert not allowed(
        statements, "kms:Decrypt", "arn:storage-key", {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}
    )
