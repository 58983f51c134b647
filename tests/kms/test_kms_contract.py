"""The ``Kms`` contract: one suite, run against :class:`LocalKms` and :class:`AwsKms` (on a moto server).

moto stores key policies but does not enforce them, so the access-denied tests run against LocalKms
only; for AwsKms, ``allow`` is tested by reading the policy back, and the mapping of AWS's
``AccessDeniedException`` is tested with a botocore Stubber, since moto cannot produce that error.
Other cases moto cannot express also run against LocalKms only, and their names say why:
moto reads a ciphertext whose key-id bytes are altered as access denied, keeps the key material
when it rotates, and encodes the encryption context ambiguously.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog
from botocore.stub import Stubber  # type: ignore[import-untyped]  # botocore has no types

from culturemesh.awskms import AwsKms, statement_id
from culturemesh.keyring import LocalKms
from culturemesh.kms import DecryptionFailed, KeyAccessDenied, KeyNotFound, Kms, KmsError
from tests.kms.conftest import MotoServer

ACCOUNT = "arn:aws:iam::123456789012"
PRODUCT_A = f"{ACCOUNT}:role/culturemesh-product-tickets"
PRODUCT_B = f"{ACCOUNT}:role/culturemesh-product-visitors"
CONSUMER = f"{ACCOUNT}:role/culturemesh-consumer-dashboard"
CONTEXT = {"dataproduct": "tickets", "object": "raw/2024/sales.parquet"}

Aliases = Callable[[str], str]


def flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def key_with_grants(kms: Kms, alias: str, principal: str = PRODUCT_A) -> str:
    key_id = kms.create_key(alias, "test key")
    kms.allow(key_id, principal, frozenset({"encrypt", "decrypt"}))
    return key_id


# --- both implementations -------------------------------------------------------------------------


def test_data_key_is_32_bytes_and_its_ciphertext_decrypts_back_to_it(kms: Kms, new_alias: Aliases) -> None:
    key_id = key_with_grants(kms, new_alias("tickets"))
    data_key = kms.generate_data_key(key_id, CONTEXT, PRODUCT_A)
    assert len(data_key.plaintext) == 32
    assert data_key.key_id == key_id
    assert data_key.plaintext not in data_key.ciphertext
    assert kms.decrypt(data_key.ciphertext, CONTEXT, PRODUCT_A) == data_key.plaintext


def test_encrypt_then_decrypt_by_alias_returns_the_plaintext(kms: Kms, new_alias: Aliases) -> None:
    alias = new_alias("tickets")
    key_with_grants(kms, alias)
    ciphertext = kms.encrypt(alias, b"database password", CONTEXT, PRODUCT_A)
    assert b"database password" not in ciphertext
    assert kms.decrypt(ciphertext, CONTEXT, PRODUCT_A) == b"database password"


@pytest.mark.parametrize(
    "other_context",
    [
        {**CONTEXT, "object": "raw/2024/other.parquet"},
        {**CONTEXT, "extra": "pair"},
        {"dataproduct": "tickets"},
        {},
    ],
    ids=["changed-value", "extra-pair", "missing-pair", "empty"],
)
def test_decrypt_with_another_context_fails(kms: Kms, new_alias: Aliases, other_context: dict[str, str]) -> None:
    key_id = key_with_grants(kms, new_alias("tickets"))
    for ciphertext in (
        kms.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A),
        kms.generate_data_key(key_id, CONTEXT, PRODUCT_A).ciphertext,
    ):
        with pytest.raises(DecryptionFailed):
            kms.decrypt(ciphertext, other_context, PRODUCT_A)


def test_flipped_byte_in_the_sealed_payload_fails_decryption(kms: Kms, new_alias: Aliases) -> None:
    key_id = key_with_grants(kms, new_alias("tickets"))
    ciphertext = kms.encrypt(key_id, b"secret value", CONTEXT, PRODUCT_A)
    for index in (len(ciphertext) - 1, len(ciphertext) - 8):
        with pytest.raises(DecryptionFailed):
            kms.decrypt(flip(ciphertext, index), CONTEXT, PRODUCT_A)


@pytest.mark.parametrize("keep", [0, 3, -1], ids=["empty", "three-bytes", "last-byte-cut"])
def test_truncated_ciphertext_fails_decryption(kms: Kms, new_alias: Aliases, keep: int) -> None:
    key_id = key_with_grants(kms, new_alias("tickets"))
    ciphertext = kms.encrypt(key_id, b"secret value", CONTEXT, PRODUCT_A)
    with pytest.raises(DecryptionFailed):
        kms.decrypt(ciphertext[:keep], CONTEXT, PRODUCT_A)


def test_ciphertexts_name_their_key_so_decrypt_needs_no_key(kms: Kms, new_alias: Aliases) -> None:
    key_a = key_with_grants(kms, new_alias("tickets"), PRODUCT_A)
    key_b = key_with_grants(kms, new_alias("visitors"), PRODUCT_B)
    assert key_a != key_b
    from_a = kms.encrypt(key_a, b"of a", CONTEXT, PRODUCT_A)
    from_b = kms.encrypt(key_b, b"of b", CONTEXT, PRODUCT_B)
    assert kms.decrypt(from_a, CONTEXT, PRODUCT_A) == b"of a"
    assert kms.decrypt(from_b, CONTEXT, PRODUCT_B) == b"of b"


def test_ciphertext_made_before_rotate_still_decrypts_after(kms: Kms, new_alias: Aliases) -> None:
    alias = new_alias("tickets")
    key_with_grants(kms, alias)
    before = kms.encrypt(alias, b"old secret", CONTEXT, PRODUCT_A)
    data_key = kms.generate_data_key(alias, CONTEXT, PRODUCT_A)
    kms.rotate(alias)
    after = kms.encrypt(alias, b"new secret", CONTEXT, PRODUCT_A)
    assert kms.decrypt(before, CONTEXT, PRODUCT_A) == b"old secret"
    assert kms.decrypt(data_key.ciphertext, CONTEXT, PRODUCT_A) == data_key.plaintext
    assert kms.decrypt(after, CONTEXT, PRODUCT_A) == b"new secret"


def test_create_key_is_idempotent_per_alias(kms: Kms, new_alias: Aliases) -> None:
    first = kms.create_key(new_alias("tickets"), "tickets")
    assert kms.create_key(new_alias("tickets"), "described differently") == first
    assert kms.create_key(new_alias("visitors")) != first


def test_alias_without_alias_prefix_is_refused(kms: Kms) -> None:
    with pytest.raises(KmsError, match="starts with 'alias/'"):
        kms.create_key("tickets")


@pytest.mark.parametrize("call", ["encrypt", "generate", "allow", "rotate"])
def test_unknown_key_raises_key_not_found(kms: Kms, new_alias: Aliases, call: str) -> None:
    missing = new_alias("never-created")
    calls: dict[str, Callable[[], object]] = {
        "encrypt": lambda: kms.encrypt(missing, b"x", CONTEXT, PRODUCT_A),
        "generate": lambda: kms.generate_data_key(missing, CONTEXT, PRODUCT_A),
        "allow": lambda: kms.allow(missing, PRODUCT_A, frozenset({"decrypt"})),
        "rotate": lambda: kms.rotate(missing),
    }
    with pytest.raises(KeyNotFound) as raised:
        calls[call]()
    assert raised.value.key == missing


@pytest.mark.parametrize("size", [0, 4097])
def test_encrypt_takes_1_to_4096_bytes(kms: Kms, new_alias: Aliases, size: int) -> None:
    key_id = key_with_grants(kms, new_alias("tickets"))
    assert kms.decrypt(kms.encrypt(key_id, b"x" * 4096, CONTEXT, PRODUCT_A), CONTEXT, PRODUCT_A) == b"x" * 4096
    with pytest.raises(KmsError):
        kms.encrypt(key_id, b"x" * size, CONTEXT, PRODUCT_A)


# --- LocalKms only: access is enforced (moto stores key policies but does not enforce them) -------


@pytest.mark.parametrize("operation", ["encrypt", "generate", "decrypt"])
def test_principal_without_a_grant_is_denied_naming_principal_key_and_operation(
    local_kms: LocalKms, operation: str
) -> None:
    alias = "alias/tickets"
    key_with_grants(local_kms, alias, PRODUCT_A)
    ciphertext = local_kms.encrypt(alias, b"secret", CONTEXT, PRODUCT_A)
    calls: dict[str, Callable[[], object]] = {
        "encrypt": lambda: local_kms.encrypt(alias, b"secret", CONTEXT, CONSUMER),
        "generate": lambda: local_kms.generate_data_key(alias, CONTEXT, CONSUMER),
        "decrypt": lambda: local_kms.decrypt(ciphertext, CONTEXT, CONSUMER),
    }
    with pytest.raises(KeyAccessDenied) as raised:
        calls[operation]()
    assert (raised.value.principal, raised.value.key, raised.value.operation) == (CONSUMER, alias, operation)
    assert CONSUMER in str(raised.value) and alias in str(raised.value)


def test_principal_with_only_encrypt_cannot_decrypt(local_kms: LocalKms) -> None:
    key_id = local_kms.create_key("alias/tickets")
    local_kms.allow(key_id, PRODUCT_A, frozenset({"encrypt"}))
    ciphertext = local_kms.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)
    data_key = local_kms.generate_data_key(key_id, CONTEXT, PRODUCT_A)  # encrypt implies generate
    for blob in (ciphertext, data_key.ciphertext):
        with pytest.raises(KeyAccessDenied, match="may not decrypt"):
            local_kms.decrypt(blob, CONTEXT, PRODUCT_A)


def test_generate_grant_gives_data_keys_but_neither_encrypt_nor_decrypt(local_kms: LocalKms) -> None:
    key_id = local_kms.create_key("alias/tickets")
    local_kms.allow(key_id, PRODUCT_A, frozenset({"generate"}))
    data_key = local_kms.generate_data_key(key_id, CONTEXT, PRODUCT_A)
    with pytest.raises(KeyAccessDenied, match="may not encrypt"):
        local_kms.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)
    with pytest.raises(KeyAccessDenied, match="may not decrypt"):
        local_kms.decrypt(data_key.ciphertext, CONTEXT, PRODUCT_A)


def test_blob_of_product_a_decrypts_only_with_a_grant_on_key_a(local_kms: LocalKms) -> None:
    key_a = key_with_grants(local_kms, "alias/tickets", PRODUCT_A)
    key_b = key_with_grants(local_kms, "alias/visitors", PRODUCT_B)
    local_kms.allow(key_b, CONSUMER, frozenset({"decrypt"}))
    from_a = local_kms.encrypt(key_a, b"of a", CONTEXT, PRODUCT_A)
    with pytest.raises(KeyAccessDenied) as raised:
        local_kms.decrypt(from_a, CONTEXT, CONSUMER)
    assert raised.value.key == "alias/tickets"
    local_kms.allow("alias/tickets", CONSUMER, frozenset({"decrypt"}))
    assert local_kms.decrypt(from_a, CONTEXT, CONSUMER) == b"of a"


def test_neither_the_creator_nor_platform_gets_access_without_a_grant(local_kms: LocalKms) -> None:
    key_id = local_kms.create_key("alias/tickets")
    for principal in ("platform", PRODUCT_A, "admin"):
        with pytest.raises(KeyAccessDenied):
            local_kms.generate_data_key(key_id, CONTEXT, principal)


def test_wildcard_principal_grants_everyone(local_kms: LocalKms) -> None:
    key_id = local_kms.create_key("alias/public")
    local_kms.allow(key_id, "*", frozenset({"encrypt", "decrypt"}))
    ciphertext = local_kms.encrypt(key_id, b"shared", CONTEXT, PRODUCT_A)
    assert local_kms.decrypt(ciphertext, CONTEXT, CONSUMER) == b"shared"


# --- LocalKms only: what moto cannot express --------------------------------------------------------


def test_flipped_byte_anywhere_fails_decryption__local_only_as_moto_reads_altered_key_id_as_access_denied(
    local_kms: LocalKms,
) -> None:
    key_id = key_with_grants(local_kms, "alias/tickets")
    ciphertext = local_kms.encrypt(key_id, b"secret value", CONTEXT, PRODUCT_A)
    for index in range(len(ciphertext)):
        with pytest.raises(DecryptionFailed):
            local_kms.decrypt(flip(ciphertext, index), CONTEXT, PRODUCT_A)


def test_ciphertext_after_rotate_names_the_new_version__local_only_as_moto_rotation_keeps_the_material(
    local_kms: LocalKms,
) -> None:
    key_id = key_with_grants(local_kms, "alias/tickets")
    before = local_kms.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)
    local_kms.rotate(key_id)
    after = local_kms.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)
    version = slice(20, 24)  # marker (3), format (1), key id (16), then the key version
    assert (int.from_bytes(before[version]), int.from_bytes(after[version])) == (1, 2)
    with pytest.raises(DecryptionFailed, match="version 2"):  # the version is authenticated, not just a hint
        local_kms.decrypt(before[:20] + after[20:24] + before[24:], CONTEXT, PRODUCT_A)


def test_context_pairs_cannot_be_reshuffled__local_only_as_moto_concatenates_keys_and_values(
    local_kms: LocalKms,
) -> None:
    key_id = key_with_grants(local_kms, "alias/tickets")
    ciphertext = local_kms.encrypt(key_id, b"secret", {"ab": "c"}, PRODUCT_A)
    with pytest.raises(DecryptionFailed):
        local_kms.decrypt(ciphertext, {"a": "bc"}, PRODUCT_A)


# --- LocalKms only: the keyring file ----------------------------------------------------------------


def test_keyring_and_its_folder_are_private_and_hold_no_plaintext_data_key(tmp_path: Path) -> None:
    path = tmp_path / "home" / "keys" / "keyring.json"
    kms = LocalKms(path)
    key_with_grants(kms, "alias/tickets")
    data_key = kms.generate_data_key("alias/tickets", CONTEXT, PRODUCT_A)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert data_key.plaintext.hex() not in path.read_text()
    assert sorted(entry.name for entry in path.parent.iterdir()) == [
        "keyring.json",
        "keyring.json.lock",
    ]  # no temp left


def test_a_second_instance_on_the_same_keyring_sees_keys_grants_and_rotations(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    mesh, cli = LocalKms(path), LocalKms(path)
    key_id = key_with_grants(mesh, "alias/tickets")
    assert cli.create_key("alias/tickets") == key_id
    before = cli.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)
    cli.rotate(key_id)
    assert mesh.decrypt(before, CONTEXT, PRODUCT_A) == b"secret"
    assert mesh.encrypt(key_id, b"secret", CONTEXT, PRODUCT_A)[20:24] == (2).to_bytes(4)


def test_processes_sharing_a_keyring_lose_no_key_and_no_grant(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from culturemesh.keyring import LocalKms
        kms, worker = LocalKms(Path(sys.argv[1])), sys.argv[2]
        for n in range(8):
            kms.create_key(f"alias/{worker}-{n}")
            kms.allow(kms.create_key("alias/shared"), worker, frozenset({"decrypt"}))
        """
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path), f"w{i}"]) for i in range(4)]
    assert [worker.wait(60) for worker in workers] == [0, 0, 0, 0]
    document = json.loads(path.read_text())
    aliases = sorted(alias for key in document["keys"] for alias in key["aliases"])
    assert aliases == sorted([f"alias/w{i}-{n}" for i in range(4) for n in range(8)] + ["alias/shared"])
    shared = next(key for key in document["keys"] if key["aliases"] == ["alias/shared"])
    assert shared["policy"] == {f"w{i}": ["decrypt"] for i in range(4)}


def test_key_material_and_data_keys_never_reach_the_logs(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    with structlog.testing.capture_logs() as logs:
        kms = LocalKms(path)
        key_id = key_with_grants(kms, "alias/tickets")
        kms.rotate(key_id)
        data_key = kms.generate_data_key(key_id, CONTEXT, PRODUCT_A)
    assert {entry["event"] for entry in logs} >= {"kms.key_created", "kms.grant_added", "kms.key_rotated"}
    materials = [version["material"] for key in json.loads(path.read_text())["keys"] for version in key["versions"]]
    logged = repr(logs)
    assert not any(material in logged for material in materials)
    assert data_key.plaintext.hex() not in logged and repr(data_key.plaintext) not in logged


# --- AwsKms only -----------------------------------------------------------------------------------


def test_allow_writes_one_statement_per_principal_and_keeps_the_others(
    aws_kms: AwsKms, moto_server: MotoServer, new_alias: Aliases
) -> None:
    alias = new_alias("tickets")
    key_id = aws_kms.create_key(alias)
    aws_kms.allow(alias, PRODUCT_A, frozenset({"generate"}))
    aws_kms.allow(alias, PRODUCT_A, frozenset({"decrypt"}))
    aws_kms.allow(key_id, CONSUMER, frozenset({"decrypt"}))
    policy = json.loads(moto_server.client().get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    statements = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert "Enable IAM User Permissions" in statements  # AWS's default statement stays
    assert statements[statement_id(PRODUCT_A)] == {
        "Sid": statement_id(PRODUCT_A),
        "Effect": "Allow",
        "Principal": {"AWS": PRODUCT_A},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    }
    assert statements[statement_id(CONSUMER)]["Action"] == ["kms:Decrypt"]
    assert len(policy["Statement"]) == 3


def test_rotate_asks_aws_for_an_on_demand_rotation_and_automatic_rotation_is_on(
    aws_kms: AwsKms, moto_server: MotoServer, new_alias: Aliases
) -> None:
    alias = new_alias("tickets")
    key_id = aws_kms.create_key(alias)
    aws_kms.rotate(alias)
    client = moto_server.client()
    rotations = client.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [rotation["RotationType"] for rotation in rotations] == ["ON_DEMAND"]
    assert client.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True


@pytest.mark.parametrize("operation", ["encrypt", "generate", "decrypt"])
def test_access_denied_from_aws_maps_to_key_access_denied__stubbed_as_moto_never_denies(operation: str) -> None:
    client = MotoServer("http://127.0.0.1:1").client()  # never called: the Stubber answers
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    method = {"encrypt": "encrypt", "generate": "generate_data_key", "decrypt": "decrypt"}[operation]
    message = f"User: {CONSUMER} is not authorized to perform: kms:Thing on resource: {arn} because no policy allows"
    kms = AwsKms(lambda principal: client)
    with Stubber(client) as stubber:
        stubber.add_client_error(method, service_error_code="AccessDeniedException", service_message=message)
        with pytest.raises(KeyAccessDenied) as raised:
            if operation == "encrypt":
                kms.encrypt("alias/tickets", b"secret", CONTEXT, CONSUMER)
            elif operation == "generate":
                kms.generate_data_key("alias/tickets", CONTEXT, CONSUMER)
            else:
                kms.decrypt(b"opaque", CONTEXT, CONSUMER)
    expected_key = arn if operation == "decrypt" else "alias/tickets"  # decrypt: the key AWS names
    assert (raised.value.principal, raised.value.key, raised.value.operation) == (CONSUMER, expected_key, operation)
