"""Who is calling an HTTP endpoint of the embedded mesh: bearer tokens that name a principal.

A principal is the name an output port's ``access`` grants (``analyst``, ``public``, …). On one
machine, ``culturemesh tokens issue PRINCIPAL`` mints a random token and prints it once; only its
SHA-256 is kept, in ``<home>/tokens.json`` (mode 0600), so a leaked state folder leaks no token.
In a cluster the same endpoints sit behind the platform's identity gateway, which forwards the
authenticated principal; the functions never see a raw credential there either.

A request without a token is the ``anonymous`` principal: it reads only what a port opens to
every principal (a port that declares no ``access``). Tokens are never logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from culturemesh.errors import ConfigError

ANONYMOUS = "anonymous"
_PRINCIPAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}")
_PREFIX = "cmt_"  # recognisable in a secret scanner, like GitHub's ghp_


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Hashed bearer tokens per principal, in one small JSON file under the mesh's home."""

    def __init__(self, home: Path) -> None:
        self.path = home / "tokens.json"
        self._cached: tuple[tuple[int, int], dict[str, str]] | None = None  # by the file's (mtime, size)

    def _read(self) -> dict[str, str]:
        """The token file, parsed again only when it changed (an endpoint checks a token per request)."""
        try:
            status = self.path.stat()
            stamp = (status.st_mtime_ns, status.st_size)
            if self._cached is not None and self._cached[0] == stamp:
                return dict(self._cached[1])
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: unreadable token file ({exc}); delete it and issue tokens again") from exc
        tokens = {str(k): str(v) for k, v in raw.items()}
        self._cached = (stamp, tokens)
        return dict(tokens)

    def issue(self, principal: str) -> str:
        """A new token for ``principal``; returned once, stored only as its hash."""
        if principal == ANONYMOUS or not _PRINCIPAL.fullmatch(principal):
            raise ConfigError(
                f"principal {principal!r}: expected a name of letters, digits, '-', '_', '.', ':' or '/' "
                "(such as analyst or product:ticketing/ticket-sales)"
            )
        token = _PREFIX + secrets.token_urlsafe(32)
        tokens = self._read()
        tokens[_digest(token)] = principal
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(tokens, out, indent=2, sort_keys=True)
        tmp.replace(self.path)
        return token

    def revoke(self, principal: str) -> int:
        """Drops every token of ``principal``; returns how many there were."""
        tokens = self._read()
        kept = {digest: who for digest, who in tokens.items() if who != principal}
        if len(kept) != len(tokens):
            self.path.write_text(json.dumps(kept, indent=2, sort_keys=True))
        return len(tokens) - len(kept)

    def principal_for(self, token: str) -> str | None:
        digest = _digest(token)
        for known, principal in self._read().items():
            if hmac.compare_digest(known, digest):
                return principal
        return None

    def authenticate(self, authorization: str | None) -> str | None:
        """The principal of an ``Authorization`` header: ``anonymous`` when absent, None when invalid."""
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.principal_for(token.strip())
