"""Encryption costs, each against a baseline in the same run:

- a 1,000,000-row ticket-sales Parquet port written and read with Parquet Modular Encryption
  (footer + a classified column, double wrapping) against the same without encryption;
- KMS calls needed to read one file (one per master key used);
- envelope encryption (sealing, framed AES-256-GCM) against plain AES-GCM on the same bytes.

Goal (issue 4): encryption overhead <= 15% both ways.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from culturemesh.descriptor import load_descriptor
from culturemesh.keyring import LocalKms
from culturemesh.keys import classification_key, function_principal, product_key, provision
from culturemesh.logs import configure
from culturemesh.parquetcrypto import ParquetCrypto
from culturemesh.sealing import FRAME, seal_bytes

from _mesh import REPO

ROWS = 1_000_000
GOAL = 1.15
DESCRIPTOR = load_descriptor(REPO / "functions" / "ticket-sales" / "data-product.yaml")


def table(rows: int) -> pa.Table:
    rng = random.Random(7)
    return pa.table(
        {
            "ticket_id": [f"T-{i:07d}" for i in range(rows)],
            "event_id": [f"e-{rng.randint(1, 400):04d}" for _ in range(rows)],
            "price": pa.array([rng.choice([750, 1250, 1800, 2500]) for _ in range(rows)], pa.int64()),
            "quantity": pa.array([rng.randint(1, 6) for _ in range(rows)], pa.int32()),
            "buyer_postal_code": [rng.choice(["2000", "9000", "1000", "3000", None]) for _ in range(rows)],
        }
    )


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    configure("console", "warning")
    folder = Path(tempfile.mkdtemp(prefix="culturemesh-bench-"))
    kms = LocalKms(folder / "keys" / "keyring.json")
    provision(kms, DESCRIPTOR)
    crypto = ParquetCrypto(kms)
    data = table(ROWS)
    principal = function_principal(DESCRIPTOR)
    columns = {classification_key(DESCRIPTOR, "sensitive"): ["buyer_postal_code"]}

    def write_plain() -> None:
        pq.write_table(data, folder / "plain.parquet", compression="zstd")

    def write_encrypted() -> None:
        properties = crypto.encryption(principal, product_key(DESCRIPTOR), columns)
        pq.write_table(data, folder / "encrypted.parquet", compression="zstd", encryption_properties=properties)

    plain_write, encrypted_write = best(3, write_plain), best(3, write_encrypted)
    plain_read = best(3, lambda: pq.read_table(folder / "plain.parquet"))
    encrypted_read = best(
        3, lambda: pq.read_table(folder / "encrypted.parquet", decryption_properties=crypto.decryption("owner"))
    )
    counting = ParquetCrypto(kms)
    pq.read_table(folder / "encrypted.parquet", decryption_properties=counting.decryption("owner"))

    blob = os.urandom(64 << 20)
    context = {"dataproduct": DESCRIPTOR.qualified_name, "object": "bench"}
    aes = AESGCM(AESGCM.generate_key(256))
    plain_aes = best(3, lambda: aes.encrypt(os.urandom(12), blob, None))
    sealing = best(3, lambda: seal_bytes(kms, product_key(DESCRIPTOR), context, principal, blob))

    write_ratio, read_ratio = encrypted_write / plain_write, encrypted_read / plain_read
    print(f"rows {ROWS}")
    print(
        f"parquet write: plain {plain_write * 1000:7.0f} ms, encrypted {encrypted_write * 1000:7.0f} ms, "
        f"ratio {write_ratio:.3f}"
    )
    print(
        f"parquet read:  plain {plain_read * 1000:7.0f} ms, encrypted {encrypted_read * 1000:7.0f} ms, "
        f"ratio {read_ratio:.3f}"
    )
    print(f"KMS calls to read one file: {counting.kms_calls} (master keys used: product key + 'sensitive')")
    print(
        f"sealing 64 MiB in {FRAME >> 10} KiB frames: {64 / sealing:7.0f} MiB/s; "
        f"plain AES-256-GCM: {64 / plain_aes:7.0f} MiB/s; ratio {sealing / plain_aes:.2f}"
    )
    print(f"ratio parquet_encryption_overhead = {max(write_ratio, read_ratio):.3f} (goal <= {GOAL})")


if __name__ == "__main__":
    main()
