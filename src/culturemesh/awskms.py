"""The AWS KMS API behind the ``Kms`` seam: :class:`AwsKms`, through boto3.

Each principal is its own IAM role (on EKS: IRSA), so ``client_for(principal)`` returns a KMS client
carrying that role's credentials, and AWS decides access from the key policy. Keys, policies and
rotation are managed through the client of ``admin``, the operator role allowed to administer keys.

- ``create_key`` looks the alias up with ``DescribeKey``; if it is missing it creates a symmetric
  key, turns on yearly automatic rotation and creates the alias. Two processes racing on one alias
  both end with the winner's key; the loser schedules its own fresh key for deletion.
- ``allow`` writes one key policy statement per principal (``Sid`` derived from the principal,
  ``Principal: {"AWS": principal}``: an IAM role ARN or an account principal), merging with the
  actions already granted and keeping every other statement. ``encrypt`` grants ``kms:Encrypt`` and
  ``kms:GenerateDataKey``, ``generate`` only the latter, ``decrypt`` ``kms:Decrypt``: the same rules
  as :class:`culturemesh.keyring.LocalKms`.
- ``rotate`` calls ``RotateKeyOnDemand``: AWS makes new backing material for new ciphertexts and
  keeps the old material for decryption (AWS limits how often a key may be rotated on demand).

Errors: ``AccessDeniedException`` → ``KeyAccessDenied``, ``NotFoundException`` → ``KeyNotFound``,
``InvalidCiphertextException`` / ``IncorrectKeyException`` → ``DecryptionFailed``; anything else
(validation, throttling, disabled keys, no network) → ``KmsError`` carrying AWS's code and message.

Under moto (5.2): key policies are stored and returned but not enforced (only an explicit Deny on
``kms:DescribeKey`` is), on-demand rotation is recorded in ``ListKeyRotations`` but keeps the key
material, and a ciphertext whose key-id bytes are altered fails as ``AccessDeniedException``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from culturemesh.kms import DataKey, DecryptionFailed, KeyAccessDenied, KeyNotFound, KmsError, Operation
from culturemesh.logs import get_logger

ACTIONS: dict[str, tuple[str, ...]] = {
    "encrypt": ("kms:Encrypt", "kms:GenerateDataKey"),
    "generate": ("kms:GenerateDataKey",),
    "decrypt": ("kms:Decrypt",),
}
_UNDECRYPTABLE = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_RESOURCE = re.compile(r"on resource:? (arn:aws[\w-]*:kms:\S+?)(?=[\s.,]|$)")

log = get_logger("culturemesh.awskms")


class AwsKms:
    """A ``Kms`` on AWS KMS; ``client_for(principal)`` gives a boto3 KMS client acting as that principal."""

    def __init__(self, client_for: Callable[[str], Any], *, admin: str = "admin") -> None:
        self._client_for = client_for
        self.admin = admin
        self._clients: dict[str, Any] = {}

    def create_key(self, alias: str, description: str = "") -> str:
        if not alias.startswith("alias/") or alias == "alias/":
            raise KmsError(f"a key alias starts with 'alias/' (like 'alias/culturemesh-tickets'), got {alias!r}")
        client = self._client(self.admin)
        with _translated(self.admin, alias, "create_key"):
            try:
                return str(client.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
            except ClientError as error:
                if _code(error) != "NotFoundException":
                    raise
            created = str(
                client.create_key(Description=description, KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
            )
            client.enable_key_rotation(KeyId=created)
            try:
                client.create_alias(AliasName=alias, TargetKeyId=created)
            except ClientError as error:
                if _code(error) != "AlreadyExistsException":
                    raise
                client.schedule_key_deletion(KeyId=created, PendingWindowInDays=7)  # another process won the race
                return str(client.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
        log.info("kms.key_created", alias=alias, key_id=created)
        return created

    def allow(self, key: str, principal: str, operations: frozenset[Operation]) -> None:
        unknown = set(operations) - set(ACTIONS)
        if unknown:
            raise KmsError(f"unknown operation(s) {sorted(unknown)}; expected some of {sorted(ACTIONS)}")
        key_id = self._key_id(key)
        client = self._client(self.admin)
        with _translated(self.admin, key, "allow"):
            policy = json.loads(client.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
            updated = with_grant(policy, principal, operations)
            client.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(updated))
        log.info("kms.grant_added", key=key, principal=principal, operations=sorted(operations))

    def generate_data_key(self, key: str, context: Mapping[str, str], principal: str) -> DataKey:
        with _translated(principal, key, "generate"):
            reply = self._client(principal).generate_data_key(
                KeyId=key, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        return DataKey(_bare_id(reply["KeyId"]), bytes(reply["Plaintext"]), bytes(reply["CiphertextBlob"]))

    def encrypt(self, key: str, plaintext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        with _translated(principal, key, "encrypt"):
            reply = self._client(principal).encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext=dict(context))
        return bytes(reply["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        with _translated(principal, "", "decrypt"):
            reply = self._client(principal).decrypt(CiphertextBlob=ciphertext, EncryptionContext=dict(context))
        return bytes(reply["Plaintext"])

    def rotate(self, key: str) -> None:
        key_id = self._key_id(key)
        with _translated(self.admin, key, "rotate"):
            self._client(self.admin).rotate_key_on_demand(KeyId=key_id)
        log.info("kms.key_rotated", key=key, key_id=key_id)

    def _key_id(self, key: str) -> str:
        """The key id behind an alias, id or ARN (the policy and rotation calls take no alias)."""
        with _translated(self.admin, key, "describe"):
            return str(self._client(self.admin).describe_key(KeyId=key)["KeyMetadata"]["KeyId"])

    def _client(self, principal: str) -> Any:
        if principal not in self._clients:
            self._clients[principal] = self._client_for(principal)
        return self._clients[principal]


def with_grant(policy: Mapping[str, Any], principal: str, operations: frozenset[Operation]) -> dict[str, Any]:
    """``policy`` with ``principal``'s statement granting ``operations`` too; other statements kept as they are."""
    sid = statement_id(principal)
    statements = _as_list(policy.get("Statement", []))
    previous = next((s for s in statements if s.get("Sid") == sid), None)
    actions = set(_as_list(previous["Action"])) if previous else set()
    actions.update(action for operation in operations for action in ACTIONS[operation])
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": sorted(actions),
        "Resource": "*",
    }
    kept = [s for s in statements if s.get("Sid") != sid]
    return {**policy, "Version": policy.get("Version", "2012-10-17"), "Statement": [*kept, statement]}


def statement_id(principal: str) -> str:
    """The ``Sid`` of culturemesh's statement for ``principal`` (letters and digits only, as IAM wants)."""
    return "CulturemeshGrant" + hashlib.sha256(principal.encode()).hexdigest()[:20]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _bare_id(key: str) -> str:
    """``arn:aws:kms:<region>:<account>:key/<id>`` → ``<id>``; ids pass through."""
    return key.rsplit(":key/", 1)[-1]


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _translated(principal: str, key: str, operation: str) -> Iterator[None]:
    """Turn AWS's errors into culturemesh's; ``key`` is empty where the ciphertext names it (decrypt)."""
    try:
        yield
    except ClientError as error:
        code, message = _code(error), str(error.response.get("Error", {}).get("Message", ""))
        named = key or _resource(message)
        if code == "AccessDeniedException":
            raise KeyAccessDenied(principal, named, operation) from error
        if code == "NotFoundException":
            raise KeyNotFound(named) from error
        if code in _UNDECRYPTABLE:
            reason = "the encryption context differs from the one it was made with, or the ciphertext was altered"
            raise DecryptionFailed("ciphertext", f"{reason} (AWS: {code})") from error
        raise KmsError(f"AWS KMS refused {operation} on {named!r} for {principal!r}: {code}: {message}") from error
    except BotoCoreError as error:
        raise KmsError(f"AWS KMS call {operation} on {key or 'a ciphertext'!r} failed: {error}") from error


def _resource(message: str) -> str:
    """The key ARN an AWS error message names, or a description for when it names none."""
    found = _RESOURCE.search(message)
    return found.group(1) if found else "(the key the ciphertext names)"
