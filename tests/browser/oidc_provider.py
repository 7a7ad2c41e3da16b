"""A small OpenID Connect provider on 127.0.0.1, for signing in during browser tests.

It speaks the authorization code flow the way the app's sign-in client uses it:
discovery, an authorization endpoint that asks nobody anything and sends the
browser straight back with a code, a token endpoint that checks the client, the
code, the redirect address and the PKCE verifier and answers with an RS256
id_token, the key set to check that token, and a userinfo endpoint.

The test chooses who signs in next with :meth:`IdentityProvider.sign_in_next`;
an authorization request with nobody chosen is refused, so a test that forgets
to choose fails at sign-in instead of borrowing an earlier test's person.

The signing key is drawn when the provider starts. Tokens are signed with
joserfc, the JOSE library Authlib itself verifies them with (Authlib's own
``authlib.jose`` is deprecated and warns on import).
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

TOKEN_LIFETIME_SECONDS = 600


@dataclass(frozen=True)
class Person:
    """Someone the provider can sign in."""

    email: str
    name: str

    @property
    def subject(self) -> str:
        """A stable subject identifier derived from the e-mail address."""
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]


@dataclass(frozen=True)
class _Grant:
    """What an authorization code stands for until the client redeems it."""

    person: Person
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


class IdentityProvider:
    """An OpenID Connect provider for one registered client, run in a thread."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.issued: list[dict[str, Any]] = []
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": secrets.token_hex(8), "use": "sig"}
        )
        self._lock = threading.Lock()
        self._next: Person | None = None
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, Person] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        """The provider's address, also the ``iss`` of every token."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def metadata_url(self) -> str:
        """Where clients discover the endpoints."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> None:
        """Serve requests in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def sign_in_next(self, email: str, name: str) -> None:
        """Make the next authorization request sign in this person."""
        with self._lock:
            self._next = Person(email=email, name=name)

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "claims_supported": ["iss", "aud", "sub", "email", "name", "nonce"],
            "code_challenge_methods_supported": ["S256"],
        }

    def key_set(self) -> dict[str, Any]:
        """The public half of the signing key, as a JWK set."""
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Answer an authorization request: where to send the browser, with what.

        Returns the redirect address and its query parameters; an unknown
        client or a missing redirect address raises ``ValueError`` instead,
        since there is nowhere safe to send the browser.
        """
        if query.get("client_id") != self.client_id:
            message = f"unknown client_id {query.get('client_id')!r}"
            raise ValueError(message)
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise ValueError("redirect_uri is missing")
        answer = {"state": query["state"]} if "state" in query else {}
        with self._lock:
            person, self._next = self._next, None
        if query.get("response_type") != "code":
            return redirect_uri, {**answer, "error": "unsupported_response_type"}
        if "openid" not in query.get("scope", "").split():
            return redirect_uri, {**answer, "error": "invalid_scope"}
        if person is None:
            return redirect_uri, {
                **answer,
                "error": "access_denied",
                "error_description": "the test chose nobody to sign in",
            }
        if query.get("code_challenge") and (
            query.get("code_challenge_method") != "S256"
        ):
            return redirect_uri, {**answer, "error": "invalid_request"}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                person=person,
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                nonce=query.get("nonce"),
                code_challenge=query.get("code_challenge"),
            )
        return redirect_uri, {**answer, "code": code}

    def token(
        self, form: dict[str, str], authorization: str | None
    ) -> tuple[HTTPStatus, dict[str, Any]]:
        """Redeem an authorization code for an id_token and an access token."""
        client_id, client_secret = _client_credentials(form, authorization)
        if client_id != self.client_id or client_secret != self.client_secret:
            return HTTPStatus.UNAUTHORIZED, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"}
        if grant.code_challenge is not None and (
            _s256(form.get("code_verifier", "")) != grant.code_challenge
        ):
            return HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"}

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": grant.person.subject,
            "email": grant.person.email,
            "email_verified": True,
            "name": grant.person.name,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "auth_time": now,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        header = {"alg": "RS256", "kid": self._key.kid, "typ": "JWT"}
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access_token] = grant.person
            self.issued.append(claims)
        return HTTPStatus.OK, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": "openid email profile",
            "id_token": jwt.encode(header, claims, self._key),
        }

    def userinfo(self, authorization: str | None) -> tuple[HTTPStatus, dict[str, Any]]:
        """The claims of the person an access token was issued to."""
        scheme, _, access_token = (authorization or "").partition(" ")
        with self._lock:
            person = self._access.get(access_token)
        if scheme.lower() != "bearer" or person is None:
            return HTTPStatus.UNAUTHORIZED, {"error": "invalid_token"}
        return HTTPStatus.OK, {
            "sub": person.subject,
            "email": person.email,
            "email_verified": True,
            "name": person.name,
        }


def _s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _client_credentials(
    form: dict[str, str], authorization: str | None
) -> tuple[str | None, str | None]:
    """The client's id and secret, from HTTP Basic or from the form body."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        # RFC 6749, 2.3.1: both parts are form-encoded before joining.
        return unquote(client_id.replace("+", " ")), unquote(
            client_secret.replace("+", " ")
        )
    return form.get("client_id"), form.get("client_secret")


def _single_values(raw: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(raw).items()}


def _handler_for(provider: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one provider."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: pytest shows what matters when a test fails.
            return

        def _json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            address = urlsplit(self.path)
            if address.path == "/.well-known/openid-configuration":
                self._json(HTTPStatus.OK, provider.metadata())
            elif address.path == "/jwks":
                self._json(HTTPStatus.OK, provider.key_set())
            elif address.path == "/userinfo":
                self._json(*provider.userinfo(self.headers.get("Authorization")))
            elif address.path == "/authorize":
                try:
                    target, parameters = provider.authorize(
                        _single_values(address.query)
                    )
                except ValueError as error:
                    self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
                    return
                joiner = "&" if urlsplit(target).query else "?"
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", target + joiner + urlencode(parameters))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = _single_values(self.rfile.read(length).decode("utf-8"))
            self._json(*provider.token(form, self.headers.get("Authorization")))

    return Handler
