"""Bearer tokens name a principal; only their hash is stored, and a wrong token is no one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from culturemesh.auth import ANONYMOUS, TokenStore
from culturemesh.errors import ConfigError


def test_issued_token_authenticates_as_its_principal_and_is_not_stored(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token = store.issue("analyst")
    assert store.authenticate(f"Bearer {token}") == "analyst"
    assert token not in store.path.read_text()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_missing_header_is_anonymous_and_bad_ones_are_nobody(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token = store.issue("analyst")
    assert store.authenticate(None) == ANONYMOUS
    assert store.authenticate(f"Bearer {token}x") is None
    assert store.authenticate(f"Basic {token}") is None
    assert store.authenticate("Bearer ") is None


def test_revoked_tokens_stop_working(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    first, second = store.issue("analyst"), store.issue("analyst")
    other = store.issue("public")
    assert store.revoke("analyst") == 2
    assert store.authenticate(f"Bearer {first}") is None
    assert store.authenticate(f"Bearer {second}") is None
    assert store.authenticate(f"Bearer {other}") == "public"


def test_product_principals_get_tokens(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token = store.issue("product:ticketing/ticket-sales")
    assert store.authenticate(f"Bearer {token}") == "product:ticketing/ticket-sales"


@pytest.mark.parametrize("name", ["", "anonymous", "has space", "semi;colon", "/leading-slash", "x" * 201])
def test_principal_names_are_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="principal"):
        TokenStore(tmp_path).issue(name)
