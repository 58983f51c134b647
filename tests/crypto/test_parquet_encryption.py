"""Parquet Modular Encryption through the KMS: partial access enforced by the keys themselves."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from culturemesh.descriptor import load_descriptor
from culturemesh.keyring import LocalKms
from culturemesh.keys import classification_key, function_principal, product_key, provision, rotate
from culturemesh.kms import DecryptionFailed, KeyAccessDenied
from culturemesh.parquetcrypto import ParquetCrypto
from culturemesh.reading import read_parquet
from culturemesh.store import FilesystemStore
from culturemesh.versions import PRODUCTS
from tests.conftest import REPO

DESCRIPTOR = load_descriptor(REPO / "functions" / "ticket-sales" / "data-product.yaml")
TABLE = pa.table(
    {
        "ticket_id": [f"T-{i}" for i in range(5000)],
        "price": [12.5] * 5000,
        "buyer_postal_code": [["9000", "1000"][i % 2] for i in range(5000)],
    }
)


@pytest.fixture
def kms(tmp_path: Path) -> LocalKms:
    kms = LocalKms(tmp_path / "keys" / "keyring.json")
    provision(kms, DESCRIPTOR)
    return kms


def write(kms: LocalKms, path: Path) -> None:
    crypto = ParquetCrypto(kms)
    properties = crypto.encryption(
        function_principal(DESCRIPTOR),
        product_key(DESCRIPTOR),
        {classification_key(DESCRIPTOR, "sensitive"): ["buyer_postal_code"]},
    )
    pq.write_table(TABLE, path, encryption_properties=properties)


def read(kms: LocalKms, path: Path, principal: str, columns: list[str]) -> pa.Table:
    return pq.read_table(path, columns=columns, decryption_properties=ParquetCrypto(kms).decryption(principal))


def test_without_keys_nothing_is_readable_not_even_the_schema(kms: LocalKms, tmp_path: Path) -> None:
    write(kms, tmp_path / "v.parquet")
    with pytest.raises(OSError):
        pq.read_table(tmp_path / "v.parquet")
    assert b"9000" not in (tmp_path / "v.parquet").read_bytes()


def test_a_principal_granted_the_classification_reads_every_column(kms: LocalKms, tmp_path: Path) -> None:
    write(kms, tmp_path / "v.parquet")
    assert read(kms, tmp_path / "v.parquet", "analyst", TABLE.column_names).equals(TABLE)


def test_a_principal_without_the_classification_reads_the_rest_and_is_refused_that_column(
    kms: LocalKms, tmp_path: Path
) -> None:
    write(kms, tmp_path / "v.parquet")
    assert read(kms, tmp_path / "v.parquet", "public", ["ticket_id", "price"]).num_rows == 5000
    with pytest.raises(KeyAccessDenied) as refused:
        read(kms, tmp_path / "v.parquet", "public", ["buyer_postal_code"])
    assert refused.value.principal == "public"
    assert refused.value.key == classification_key(DESCRIPTOR, "sensitive")


def test_a_principal_without_any_grant_reads_nothing(kms: LocalKms, tmp_path: Path) -> None:
    write(kms, tmp_path / "v.parquet")
    with pytest.raises(KeyAccessDenied):
        read(kms, tmp_path / "v.parquet", "stranger", ["ticket_id"])


@pytest.mark.parametrize("where", [0.02, 0.3, 0.6, 0.97])
def test_a_flipped_byte_in_an_encrypted_file_fails_with_a_clear_error_and_no_data(
    kms: LocalKms, tmp_path: Path, where: float
) -> None:
    store = FilesystemStore(tmp_path / "store")
    path = tmp_path / "v.parquet"
    write(kms, path)
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    store.put(PRODUCTS, "t/v.parquet", bytes(data), notify=False)
    with pytest.raises(DecryptionFailed, match=r"t/v\.parquet"):
        read_parquet(store, kms, "owner", "t/v.parquet", None, "test port")


def test_after_rotation_old_files_still_read_and_new_ones_use_new_key_material(kms: LocalKms, tmp_path: Path) -> None:
    write(kms, tmp_path / "old.parquet")
    rotate(kms, DESCRIPTOR)
    write(kms, tmp_path / "new.parquet")
    assert read(kms, tmp_path / "old.parquet", "owner", TABLE.column_names).equals(TABLE)
    assert read(kms, tmp_path / "new.parquet", "owner", TABLE.column_names).equals(TABLE)


def test_double_wrapping_asks_the_kms_once_per_master_key_to_read_a_file(kms: LocalKms, tmp_path: Path) -> None:
    write(kms, tmp_path / "v.parquet")
    crypto = ParquetCrypto(kms)
    pq.read_table(tmp_path / "v.parquet", decryption_properties=crypto.decryption("owner"))
    assert crypto.kms_calls == 2  # the product key (footer) and the 'sensitive' key


def test_a_port_without_classified_columns_encrypts_every_column_under_the_product_key(
    kms: LocalKms, tmp_path: Path
) -> None:
    crypto = ParquetCrypto(kms)
    properties = crypto.encryption(function_principal(DESCRIPTOR), product_key(DESCRIPTOR), {})
    pq.write_table(TABLE, tmp_path / "v.parquet", encryption_properties=properties)
    assert b"9000" not in (tmp_path / "v.parquet").read_bytes()
    with pytest.raises(OSError):
        pq.read_table(tmp_path / "v.parquet")
    assert read(kms, tmp_path / "v.parquet", "public", ["ticket_id", "buyer_postal_code"]).num_rows == 5000
