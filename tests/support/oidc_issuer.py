"""A loopback OIDC issuer for trusted-publishing tests: discovery, JWKS and tokens signed
with keys the test makes (``cryptography``), plus the GitHub Actions endpoint a CI job
asks for its ID token (what ``uv publish --trusted-publishing`` calls)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.backends import Backend
from tests.support.driver import Organization, Registry, api
from tests.support.http_stub import Answer, handler_for
from tests.support.server import PackyardServer

REQUEST_TOKEN = "actions-request-token"  # what the job's runtime sends as Bearer


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    algorithm: str

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        text = (
            RSAAlgorithm.to_jwk(public)
            if isinstance(public, rsa.RSAPublicKey)
            else ECAlgorithm.to_jwk(public)
        )
        jwk: dict[str, Any] = json.loads(text)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


@dataclass
class OidcIssuer:
    keys: list[SigningKey] = field(default_factory=lambda: [rsa_key("rsa-1"), ec_key("ec-1")])
    # What the Actions token endpoint hands out: claims without aud, iss, iat, exp.
    job_claims: dict[str, Any] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def actions_request_url(self) -> str:
        return f"{self.url}/actions/token?api-version=2.0"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self._answer))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> OidcIssuer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def token(
        self,
        audience: str | list[str],
        claims: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        issuer: str | None = None,
        lifetime: int = 300,
        issued: float | None = None,
        not_before: float | None = None,
    ) -> str:
        """A signed JWT; every standard claim can be made wrong for a refusal test."""
        signer = key or self.keys[0]
        now = time.time() if issued is None else issued
        payload: dict[str, Any] = {
            "iss": issuer or self.url,
            "aud": audience,
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": str(uuid.uuid4()),
            **(claims or {}),
        }
        if not_before is not None:
            payload["nbf"] = int(not_before)
        return jwt.encode(
            payload, signer.private, algorithm=signer.algorithm, headers={"kid": signer.kid}
        )

    def _answer(self, request: BaseHTTPRequestHandler) -> Answer:
        path = urlsplit(request.path)
        if path.path == "/.well-known/openid-configuration":
            return _json({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})
        if path.path == "/jwks":
            return _json({"keys": [key.jwk() for key in self.keys]})
        if path.path == "/actions/token":
            if request.headers.get("Authorization") != f"Bearer {REQUEST_TOKEN}":
                return 401, {}, b"bad request token"
            audience = parse_qs(path.query).get("audience", [""])[0]
            return _json({"value": self.token(audience, self.job_claims)})
        return 404, {}, b"not found"


def _json(body: dict[str, Any]) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def registry_with_policy(org: Organization, name: str, policy: str) -> Registry:
    """A new registry of ``org`` whose OIDC policy is ``policy``, made over REST."""
    admin = api(org, org.token("write_registries", "read_registries"))
    created = admin.create_registry(name, oidc_policy=policy)
    return admin.registry(created["slug"])


@contextmanager
def server_trusting(backend: Backend, root: Path, issuer: OidcIssuer) -> Iterator[PackyardServer]:
    """A running server of ``backend`` that trusts ``issuer``'s tokens."""
    server = backend.new_server(root, extra_env={"PACKYARD_OIDC_ISSUERS": issuer.url})
    server.start()
    try:
        yield server
    finally:
        server.stop()
