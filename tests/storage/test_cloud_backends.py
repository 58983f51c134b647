"""The same product, run with CULTUREMESH_STORE=s3 and CULTUREMESH_KMS=aws against a real S3/KMS
HTTP endpoint (a moto server): the platform talks to the seams, not to the filesystem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3

from tests.conftest import REPO, SAMPLES


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "culturemesh", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_run_and_read_through_s3_and_aws_kms(moto_endpoint: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    env.update(
        CULTUREMESH_HOME=str(tmp_path),
        CULTUREMESH_STORE="s3",
        CULTUREMESH_KMS="aws",
        CULTUREMESH_AWS_ENDPOINT=moto_endpoint,
        CULTUREMESH_BUCKET_PREFIX="cloud-test-",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
    )

    ran = cli(env, "run", "ticket-sales", "--input", str(SAMPLES / "sales.csv"))
    assert ran.returncode == 0, ran.stderr
    published = json.loads("[" + ran.stdout.replace("}\n{", "},\n{") + "]")[-1]
    assert published["dataref"].startswith("s3://cloud-test-products/ticketing/ticket-sales/sales/versions/")

    read = cli(env, "read", "ticket-sales", "sales", "--as", "owner")
    assert read.returncode == 0, read.stderr
    assert len(read.stdout.splitlines()) == 201

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cloud-test-landing")["Contents"]]
    raw = s3.get_object(Bucket="cloud-test-landing", Key=keys[0])["Body"].read()
    assert raw.startswith(b"CMSEAL1") and b"T-000001" not in raw  # sealed before it left the machine
    kms = boto3.client(
        "kms",
        endpoint_url=moto_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert "alias/culturemesh/ticketing/ticket-sales/sensitive" in aliases
