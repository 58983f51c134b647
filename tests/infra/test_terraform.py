"""The Terraform in infra/terraform: it parses, checkov finds nothing wrong with it, the generated
variables fit it, and what it creates is what the application asks for (key aliases and grants as
``culturemesh.keys`` provisions them, service accounts as ``culturemesh.deploy.knative`` names
them, buckets as ``S3Store`` names them).

There is no terraform binary here: the modules' expressions are evaluated by ``hcl_eval`` over
python-hcl2's parse tree. checkov runs once per session (``CULTUREMESH_CHECKOV``, else the
``checkov`` next to this Python, else on PATH).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

from culturemesh import deadletters, keys
from culturemesh.deploy import irsa, knative
from culturemesh.descriptor import Descriptor
from culturemesh.keyring import LocalKms
from culturemesh.kms import KeyAccessDenied, Operation
from culturemesh.project import load_products
from culturemesh.s3store import S3Store
from culturemesh.settings import DEFAULT_NAMESPACE, Settings
from culturemesh.uploads import LANDING, REPORTS
from culturemesh.versions import PRODUCTS
from tests.conftest import REPO
from tests.infra import hcl_eval

TERRAFORM = REPO / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
PRODUCTION = TERRAFORM / "environments" / "production"
TFVARS = PRODUCTION / "culturemesh.auto.tfvars.json"
OPERATOR_EXAMPLE = PRODUCTION / "operator.tfvars.example"
ROOTS = sorted([*MODULES.iterdir(), PRODUCTION])
ACCOUNT = "123456789012"
DATA = {"aws_partition": {"current": {"partition": "aws"}}, "aws_caller_identity": {"current": {"account_id": ACCOUNT}}}
# Which checks may be skipped at all (each skip also needs its reason next to the resource).
ALLOWED_SKIPS = {"CKV_AWS_144", "CKV2_AWS_62", "CKV_AWS_18", "CKV_AWS_145"}
AWS_ACTION = {"encrypt": "kms:Encrypt", "generate": "kms:GenerateDataKey", "decrypt": "kms:Decrypt"}


def example_products() -> dict[str, Any]:
    products: dict[str, Any] = json.loads(TFVARS.read_text())["products"]
    return products


def load(path: Path) -> dict[str, Any]:
    """A file as python-hcl2 reads it, strings without their quotes."""
    with path.open() as file:
        return hcl2.load(
            file, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
        )


def operator_example() -> dict[str, Any]:
    return load(OPERATOR_EXAMPLE)


def declared_variables(root: Path) -> dict[str, dict[str, Any]]:
    parsed = load(root / "variables.tf")
    return {name: body for block in parsed.get("variable", []) for name, body in block.items()}


def products_type(root: Path) -> Any:
    return hcl_eval.type_constraint(
        hcl_eval.attribute(hcl_eval.block_of(root / "variables.tf", "variable", "products"), "type")
    )


def function_role(product: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/culturemesh-{product.replace('/', '-')}"


SINK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{irsa.DEAD_LETTERS_ROLE}"
# The iam module's key for each platform Service's role and trust policy, by its service account.
PLATFORM_KEYS = {
    irsa.ADAPTER_ACCOUNT: "s3-adapter",
    irsa.DEAD_LETTERS_ACCOUNT: "dead-letters",
    irsa.CATALOG_ACCOUNT: "catalog",
}


def each(key: str, value: Any) -> dict[str, Any]:
    return {"each": {"key": key, "value": value}}


# ---------------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("path", sorted(TERRAFORM.rglob("*.tf")), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_tf_file_parses_with_python_hcl2(path: Path) -> None:
    assert load(path), f"{path} holds no blocks"


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_every_module_has_main_variables_outputs_versions_and_a_readme_naming_each_input_and_output(root: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (root / name).is_file(), f"{root.name} has no {name}"
    readme = (root / "README.md").read_text()
    outputs = load(root / "outputs.tf")
    names = [*declared_variables(root), *(name for block in outputs["output"] for name in block)]
    assert [name for name in names if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_every_module_pins_terraform_and_the_aws_provider_to_5x(root: Path) -> None:
    (terraform,) = load(root / "versions.tf")["terraform"]
    assert terraform["required_version"].startswith(">= 1.")
    (providers,) = terraform["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert re.fullmatch(r"~> 5\.\d+", providers["aws"]["version"])


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_every_variable_declares_a_type_and_a_description(root: Path) -> None:
    incomplete = [
        name for name, body in declared_variables(root).items() if not body.get("type") or not body.get("description")
    ]
    assert incomplete == []


# ---------------------------------------------------------------------------------------------
# checkov


def checkov_command() -> str:
    found = os.environ.get("CULTUREMESH_CHECKOV") or shutil.which("checkov", path=str(Path(sys.executable).parent))
    found = found or shutil.which("checkov")
    if not found:
        pytest.fail(
            "checkov not found: install it (its pins clash with this venv: use its own venv) and link it "
            "next to this Python, put it on PATH, or set CULTUREMESH_CHECKOV"
        )
    return found


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    command = [
        checkov_command(),
        "-d",
        str(TERRAFORM),
        "--framework",
        "terraform",
        "--compact",
        "--skip-download",
        "-o",
        "json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    (terraform,) = report if isinstance(report, list) else [report]
    assert terraform["check_type"] == "terraform"
    return dict(terraform)


def test_checkov_finds_no_failed_check_and_no_parsing_error(checkov_report: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_checkov_passed_the_security_settings_on_every_bucket_key_queue_and_table(
    checkov_report: dict[str, Any],
) -> None:
    passed = {(c["check_id"], c["resource"]) for c in checkov_report["results"]["passed_checks"]}
    buckets = [f'module.storage.aws_s3_bucket.data["{b}"]' for b in ("landing", "products", "reports", "dead-letters")]
    expected = {
        *(
            (check, bucket)
            for bucket in buckets
            for check in ("CKV_AWS_145", "CKV_AWS_21", "CKV2_AWS_6", "CKV_AWS_18", "CKV2_AWS_61")
        ),
        *(
            ("CKV_AWS_7", key)
            for key in (
                "aws_kms_key.platform",
                "module.registry.aws_kms_key.table",
                "module.kms.aws_kms_key.this",
                'module.kms.aws_kms_key.platform["platform/dead-letters"]',
            )
        ),
        *(("CKV_AWS_27", f"module.storage.aws_sqs_queue.{q}") for q in ("landing_events", "landing_events_dlq")),
        ("CKV_AWS_28", "module.registry.aws_dynamodb_table.registry"),
        ("CKV_AWS_119", "module.registry.aws_dynamodb_table.registry"),
    }
    assert sorted(expected - passed) == []


def test_every_checkov_skip_is_an_allowed_check_with_a_written_reason(checkov_report: dict[str, Any]) -> None:
    comments = [
        m for tf in TERRAFORM.rglob("*.tf") for m in re.finditer(r"checkov:skip=([^:\s]+)(?::(.*))?", tf.read_text())
    ]
    assert comments, "expected the documented skips (cross-region replication, ...)"
    assert [
        m.group(0) for m in comments if m.group(1) not in ALLOWED_SKIPS or len((m.group(2) or "").strip()) < 30
    ] == []
    skipped = checkov_report["results"]["skipped_checks"]
    assert [c["check_id"] for c in skipped if len(c["check_result"].get("suppress_comment") or "") < 30] == []


# ---------------------------------------------------------------------------------------------
# Variables


def test_example_tfvars_has_exactly_the_declared_products_type() -> None:
    tfvars = json.loads(TFVARS.read_text())
    assert set(tfvars) <= set(declared_variables(PRODUCTION))
    assert hcl_eval.type_problems(tfvars["products"], products_type(PRODUCTION)) == []


def test_the_shape_check_reports_a_missing_and_a_mistyped_attribute() -> None:
    broken = example_products()
    del broken["ticketing/ticket-sales"]["ports"]
    broken["ticketing/ticket-sales"]["consumers"] = ["owner"]
    problems = hcl_eval.type_problems(broken, products_type(PRODUCTION))
    assert problems == [
        "['ticketing/ticket-sales'].ports: missing",
        "['ticketing/ticket-sales'].consumers: expected map, found list",
    ]


@pytest.mark.parametrize("module", ["kms", "iam"])
def test_modules_declare_products_with_the_environments_type(module: str) -> None:
    assert products_type(MODULES / module) == products_type(PRODUCTION)


def test_operator_example_sets_every_required_variable_and_a_role_for_every_consumer_and_provider() -> None:
    example = operator_example()
    declared = declared_variables(PRODUCTION)
    required = {name for name, body in declared.items() if "default" not in body} - {"products"}
    assert required <= set(example) <= set(declared)
    principals = {f"provider:{id_}" for id_ in example_products()}
    principals |= {consumer for p in example_products().values() for consumer in p["consumers"]}
    # A product reading another port as itself is its own functions' role, which the kms module
    # takes from the iam module; every other principal needs a role from the operator.
    own_roles = {f"product:{id_}" for id_ in example_products()}
    assert sorted(principals - own_roles - set(example["consumer_role_arns"])) == []


def test_environment_defaults_are_the_applications_defaults() -> None:
    declared = declared_variables(PRODUCTION)
    settings = Settings(project=REPO, home=REPO / ".culturemesh")
    assert declared["bucket_prefix"]["default"] == settings.bucket_prefix
    assert declared["region"]["default"] == settings.aws_region
    assert declared["namespace"]["default"] == DEFAULT_NAMESPACE


# ---------------------------------------------------------------------------------------------
# kms


def kms_scope(products: dict[str, Any], principal_role_arns: dict[str, str] | None = None) -> dict[str, Any]:
    arns = operator_example()["consumer_role_arns"] if principal_role_arns is None else principal_role_arns
    variables = {
        "products": products,
        "function_role_arns": {id_: function_role(id_) for id_ in products},
        "platform_role_arns": {deadletters.PRINCIPAL: SINK_ROLE},
        "principal_role_arns": arns,
    }
    return hcl_eval.module_scope(MODULES / "kms", variables, data=DATA)


def created_aliases(products: dict[str, Any]) -> dict[str, str]:
    """Alias name -> the key it targets, as aws_kms_alias.this and aws_kms_key.this evaluate."""
    scope = kms_scope(products)
    key = hcl_eval.block_of(MODULES / "kms" / "main.tf", "resource", "aws_kms_key", "this")
    alias = hcl_eval.block_of(MODULES / "kms" / "main.tf", "resource", "aws_kms_alias", "this")
    created_keys = {
        k: {"key_id": f"key-for-{k}"} for k in hcl_eval.evaluate(hcl_eval.attribute(key, "for_each"), scope)
    }
    scope = {**scope, "aws_kms_key": {"this": created_keys}}
    return {
        hcl_eval.evaluate(hcl_eval.attribute(alias, "name"), {**scope, **each(k, v)}): hcl_eval.evaluate(
            hcl_eval.attribute(alias, "target_key_id"), {**scope, **each(k, v)}
        )
        for k, v in hcl_eval.evaluate(hcl_eval.attribute(alias, "for_each"), scope).items()
    }


def aliases_of(descriptor: Descriptor) -> set[str]:
    labels = sorted(keys.labels(descriptor))
    return {
        keys.product_key(descriptor),
        keys.landing_key(descriptor),
        *(keys.classification_key(descriptor, label) for label in labels),
    }


def test_kms_module_creates_exactly_the_aliases_culturemesh_keys_uses_for_the_example_products() -> None:
    expected = {alias for d in load_products(REPO / "functions") for alias in aliases_of(d)}
    created = created_aliases(example_products())
    assert set(created) == expected
    assert all(target == f"key-for-{alias.removeprefix('alias/culturemesh/')}" for alias, target in created.items())


def test_kms_module_creates_a_product_landing_and_per_classification_alias_for_every_product() -> None:
    products = {
        "museums/visits": {
            "domain": "museums",
            "name": "visits",
            "ports": ["daily"],
            "classifications": ["pii", "sensitive"],
            "consumers": {"researcher": ["pii"]},
        },
        "ticketing/ticket-sales": example_products()["ticketing/ticket-sales"],
    }
    expected = {
        f"alias/culturemesh/{id_}{suffix}"
        for id_, p in products.items()
        for suffix in ["", "/landing", *(f"/{label}" for label in p["classifications"])]
    }
    assert set(created_aliases(products)) == expected


def policy_grants(products: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per alias, per principal ARN, the KMS actions its key policy allows (the admin statement aside)."""
    scope = kms_scope(products)
    key = hcl_eval.block_of(MODULES / "kms" / "main.tf", "resource", "aws_kms_key", "this")
    grants: dict[str, dict[str, set[str]]] = {}
    for k, value in scope["local"]["keys"].items():
        policy = json.loads(hcl_eval.evaluate(hcl_eval.attribute(key, "policy"), {**scope, **each(k, value)}))
        admin, *statements = policy["Statement"]
        assert admin == {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
        per_principal = grants.setdefault(f"alias/culturemesh/{k}", {})
        for statement in statements:
            assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
            principals = statement["Principal"]["AWS"]
            for arn in [principals] if isinstance(principals, str) else principals:
                per_principal.setdefault(arn, set()).update(statement["Action"])
    return grants


def permitted(kms: LocalKms, alias: str, principal: str, owner: str) -> Iterator[Operation]:
    """The operations the embedded KMS lets ``principal`` do with ``alias``, tried one by one."""
    context = {"probe": alias}
    attempts: dict[Operation, Callable[[], object]] = {
        "encrypt": lambda: kms.encrypt(alias, b"probe", context, principal),
        "generate": lambda: kms.generate_data_key(alias, context, principal),
        "decrypt": lambda: kms.decrypt(kms.encrypt(alias, b"probe", context, owner), context, principal),
    }
    for operation, attempt in attempts.items():
        try:
            attempt()
        except KeyAccessDenied:
            continue
        yield operation


def test_key_policies_grant_each_principal_what_culturemesh_keys_provision_grants_it(tmp_path: Path) -> None:
    (descriptor,) = [d for d in load_products(REPO / "functions") if d.qualified_name == "ticketing/ticket-sales"]
    kms = LocalKms(tmp_path / "keyring.json")
    keys.provision(kms, descriptor)
    owner = keys.function_principal(descriptor)
    arn_of = {**operator_example()["consumer_role_arns"], owner: function_role(descriptor.qualified_name)}
    principals = [*arn_of, "stranger"]

    granted = policy_grants(example_products())

    for alias in sorted(aliases_of(descriptor)):
        by_app = {p: set(permitted(kms, alias, p, owner)) for p in principals}
        by_policy = {
            p: {op for op, action in AWS_ACTION.items() if action in granted[alias].get(arn_of.get(p, ""), set())}
            for p in principals
        }
        assert by_policy == by_app, alias


def test_kms_refuses_to_plan_a_consumer_or_provider_without_a_role_arn() -> None:
    arns = dict(operator_example()["consumer_role_arns"])
    del arns["analyst"], arns["provider:ticketing/ticket-sales"]
    scope = kms_scope(example_products(), arns)
    key = hcl_eval.block_of(MODULES / "kms" / "main.tf", "resource", "aws_kms_key", "this")
    (lifecycle,) = hcl_eval.nested_blocks(key, "lifecycle")
    refused = []
    for k, value in scope["local"]["keys"].items():
        for precondition in hcl_eval.nested_blocks(lifecycle, "precondition"):
            inner = {**scope, **each(k, value)}
            if not hcl_eval.evaluate(hcl_eval.attribute(precondition, "condition"), inner):
                refused.append(hcl_eval.evaluate(hcl_eval.attribute(precondition, "error_message"), inner))
    remedy = "consumer_role_arns (the kms module's principal_role_arns)."
    # only ticket-sales' keys: the roles deleted above are its consumer's and provider's
    assert sorted(r for r in refused if "ticketing/ticket-sales" in r) == [
        f"No role ARN for consumer(s) analyst of ticketing/ticket-sales/sensitive: add them to {remedy}",
        f"No role ARN for consumer(s) analyst of ticketing/ticket-sales: add them to {remedy}",
        f"No role ARN for principal provider:ticketing/ticket-sales (its landing key needs one): add it to {remedy}",
    ]


# ---------------------------------------------------------------------------------------------
# iam and storage


def iam_scope() -> dict[str, Any]:
    example = operator_example()
    bucket_arns = {b: f"arn:aws:s3:::culturemesh-{b}" for b in ("landing", "products", "reports")}
    variables = {
        "products": example_products(),
        "oidc_provider_arn": example["oidc_provider_arn"],
        "oidc_provider_url": example["oidc_provider_url"],
        "bucket_arns": bucket_arns,
    }
    return hcl_eval.module_scope(MODULES / "iam", variables, data={"aws_region": {"current": {"name": "eu-west-1"}}})


def trusted_subjects() -> dict[str, list[str]]:
    """Per assume-role policy (product id or "s3-adapter") the service accounts its :sub condition admits."""
    scope = iam_scope()
    assume = hcl_eval.block_of(MODULES / "iam" / "main.tf", "data", "aws_iam_policy_document", "assume")
    (statement,) = hcl_eval.nested_blocks(assume, "statement")
    subjects = {}
    for k, v in hcl_eval.evaluate(hcl_eval.attribute(assume, "for_each"), scope).items():
        inner = {**scope, **each(k, v)}
        conditions = {
            hcl_eval.evaluate(hcl_eval.attribute(c, "variable"), inner): hcl_eval.evaluate(
                hcl_eval.attribute(c, "values"), inner
            )
            for c in hcl_eval.nested_blocks(statement, "condition")
        }
        issuer = operator_example()["oidc_provider_url"].removeprefix("https://")
        assert conditions[f"{issuer}:aud"] == ["sts.amazonaws.com"]
        subjects[k] = conditions[f"{issuer}:sub"]
    return subjects


def test_each_function_role_trusts_only_the_service_account_knative_runs_the_product_as() -> None:
    subjects = trusted_subjects()
    for descriptor in load_products(REPO / "functions"):
        accounts = {s["spec"]["template"]["spec"]["serviceAccountName"] for s in knative.services(descriptor, REPO)}
        assert subjects[descriptor.qualified_name] == [
            f"system:serviceaccount:{DEFAULT_NAMESPACE}:{a}" for a in sorted(accounts)
        ]


def test_the_adapter_role_trusts_the_s3_adapters_service_account() -> None:
    (service, *_) = knative.s3_adapter()
    account = service["spec"]["template"]["spec"]["serviceAccountName"]
    assert trusted_subjects()["s3-adapter"] == [f"system:serviceaccount:{DEFAULT_NAMESPACE}:{account}"]


def generated_service_accounts() -> dict[str, dict[str, Any]]:
    """The ServiceAccounts ``culturemesh build knative`` generates, keyed as the iam module keys roles."""
    descriptors = load_products(REPO / "functions")
    products = {irsa.function_service_account(d): d.qualified_name for d in descriptors}
    accounts = irsa.service_accounts(descriptors, ACCOUNT)
    keys_ = {**products, **PLATFORM_KEYS}
    return {keys_[account["metadata"]["name"]]: account for account in accounts}


def role_names() -> dict[str, str]:
    """Per product id (and per platform Service's key) the name the iam module gives the role, evaluated."""
    scope = iam_scope()
    function = hcl_eval.block_of(MODULES / "iam" / "main.tf", "resource", "aws_iam_role", "function")
    names = {
        k: hcl_eval.evaluate(hcl_eval.attribute(function, "name"), {**scope, **each(k, v)})
        for k, v in hcl_eval.evaluate(hcl_eval.attribute(function, "for_each"), scope).items()
    }
    for key, resource in {"s3-adapter": "adapter", "dead-letters": "dead_letters", "catalog": "catalog"}.items():
        role = hcl_eval.block_of(MODULES / "iam" / "main.tf", "resource", "aws_iam_role", resource)
        names[key] = hcl_eval.evaluate(hcl_eval.attribute(role, "name"), scope)
        trust = hcl_eval.evaluate(hcl_eval.attribute(role, "assume_role_policy"), _documents(scope))
        assert trust == f"assume[{key}]", resource  # the role uses its own trust policy
    return names


def _documents(scope: dict[str, Any]) -> dict[str, Any]:
    """A scope where data.aws_iam_policy_document.assume[k].json evaluates to "assume[k]"."""
    assume = {k: {"json": f"assume[{k}]"} for k in ("s3-adapter", "dead-letters", "catalog")}
    return {**scope, "data": {"aws_iam_policy_document": {"assume": assume}}}


def test_every_generated_service_account_is_the_one_subject_its_roles_trust_policy_admits() -> None:
    accounts, subjects = generated_service_accounts(), trusted_subjects()
    assert set(accounts) == set(subjects) == {*example_products(), *PLATFORM_KEYS.values()}
    for key, account in accounts.items():
        metadata = account["metadata"]
        assert subjects[key] == [f"system:serviceaccount:{metadata['namespace']}:{metadata['name']}"], key


def test_every_generated_service_account_is_annotated_with_the_arn_of_the_role_the_iam_module_creates() -> None:
    names = role_names()
    for key, account in generated_service_accounts().items():
        annotation = account["metadata"]["annotations"][irsa.ROLE_ANNOTATION]
        assert annotation == f"arn:aws:iam::{ACCOUNT}:role/{names[key]}", key


def test_the_trust_check_fails_for_a_service_account_in_another_namespace() -> None:
    account = generated_service_accounts()["ticketing/ticket-sales"]
    moved = {**account, "metadata": {**account["metadata"], "namespace": "default"}}
    subject = f"system:serviceaccount:{moved['metadata']['namespace']}:{moved['metadata']['name']}"
    assert subject not in trusted_subjects()["ticketing/ticket-sales"]


def statements(document: str, key: str | None = None) -> list[dict[str, Any]]:
    """The static statements of an aws_iam_policy_document in the iam module, evaluated."""
    scope = iam_scope() if key is None else {**iam_scope(), **each(key, None)}
    scope = {
        **scope,
        "var": {
            **scope["var"],
            "queue_arn": "arn:queue",
            "storage_kms_key_arn": "arn:storage-key",
            "registry_table_arn": "arn:table",
            "registry_kms_key_arn": "arn:table-key",
        },
    }
    body = hcl_eval.block_of(MODULES / "iam" / "main.tf", "data", "aws_iam_policy_document", document)
    return [
        {name: hcl_eval.evaluate(hcl_eval.attribute(s, name), scope) for name in ("sid", "actions", "resources")}
        for s in hcl_eval.nested_blocks(body, "statement")
    ]


def test_only_the_adapter_may_receive_from_the_queue_and_functions_touch_only_their_own_s3_prefixes() -> None:
    adapter = statements("adapter")
    assert any("sqs:ReceiveMessage" in s["actions"] and s["resources"] == ["arn:queue"] for s in adapter)
    function = statements("function", "ticketing/ticket-sales")
    assert [a for s in function for a in s["actions"] if a.startswith("sqs:")] == []
    objects = [r for s in function for r in s["resources"] if r.startswith("arn:aws:s3:::") and "/" in r]
    assert objects and all(re.fullmatch(r"arn:aws:s3:::culturemesh-\w+/ticketing/ticket-sales/\*", r) for r in objects)


def test_bucket_names_are_the_ones_the_s3_store_uses_and_only_reports_and_dead_letters_expire() -> None:
    scope = hcl_eval.module_scope(MODULES / "storage", {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/x"})
    store = S3Store(client=None, bucket_prefix=Settings(project=REPO, home=REPO / ".culturemesh").bucket_prefix)
    buckets = (LANDING, PRODUCTS, REPORTS, deadletters.BUCKET)
    assert scope["local"]["data_buckets"] == {b: store.bucket_name(b) for b in buckets}

    lifecycle = hcl_eval.block_of(
        MODULES / "storage" / "main.tf", "resource", "aws_s3_bucket_lifecycle_configuration", "data"
    )
    days = {
        b: hcl_eval.evaluate(hcl_eval.attribute(lifecycle, "rule", "expiration", "days"), {**scope, **each(b, name)})
        for b, name in scope["local"]["data_buckets"].items()
    }
    assert days == {
        LANDING: None,
        PRODUCTS: None,
        REPORTS: scope["var"]["report_retention_days"],
        deadletters.BUCKET: scope["var"]["dead_letter_retention_days"],
    }


def test_the_landing_bucket_notifies_the_queue_of_every_created_object() -> None:
    notification = hcl_eval.block_of(
        MODULES / "storage" / "main.tf", "resource", "aws_s3_bucket_notification", "landing"
    )
    scope = {
        "aws_s3_bucket": {"data": {b: {"id": f"bucket-{b}"} for b in ("landing", "products", "reports")}},
        "aws_sqs_queue": {"landing_events": {"arn": "arn:queue"}},
    }
    assert hcl_eval.evaluate(hcl_eval.attribute(notification, "bucket"), scope) == "bucket-landing"
    assert hcl_eval.evaluate(hcl_eval.attribute(notification, "queue", "queue_arn"), scope) == "arn:queue"
    assert hcl_eval.evaluate(hcl_eval.attribute(notification, "queue", "events"), scope) == ["s3:ObjectCreated:*"]
