"""The test identity provider keeps the rules a real one keeps (no browser needed).

The sign-in tests only mean something if the provider refuses what a real one
refuses: these talk to it over HTTP and check the id_token with its key set.
"""

import base64
import hashlib
import http.client
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.browser.oidc_provider import IdentityProvider

CLIENT_ID = "escalation-health"
CLIENT_SECRET = "provider-test-secret"
REDIRECT_URI = "http://127.0.0.1:9/oauth2callback"


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    """A provider of its own for each test."""
    started = IdentityProvider(CLIENT_ID, CLIENT_SECRET)
    started.start()
    yield started
    started.stop()


def request(
    provider: IdentityProvider,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the provider, redirects not followed."""
    connection = http.client.HTTPConnection(
        urlsplit(provider.issuer).netloc, timeout=10
    )
    try:
        payload = urlencode(body).encode() if body is not None else None
        sent = dict(headers or {})
        if payload is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=payload, headers=sent)
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        connection.close()


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    """An HTTP Basic header for the client."""
    pair = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def authorize(
    provider: IdentityProvider, verifier: str, nonce: str = "n-1"
) -> dict[str, list[str]]:
    """Ask for a code the way the app's client does; the redirect's parameters."""
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email profile",
            "state": "s-1",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    status, headers, _ = request(provider, "GET", f"/authorize?{query}")
    assert status == 302
    location = urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


def redeem(
    provider: IdentityProvider, code: str, verifier: str, secret: str = CLIENT_SECRET
) -> tuple[int, dict[str, Any]]:
    """Exchange a code at the token endpoint."""
    status, _, body = request(
        provider,
        "POST",
        "/token",
        body={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers=basic(CLIENT_ID, secret),
    )
    return status, json.loads(body)


def test_the_code_flow_ends_in_an_id_token_signed_with_the_published_key(
    provider: IdentityProvider,
) -> None:
    provider.sign_in_next("ines@example.com", "Ines Example")
    verifier = secrets.token_urlsafe(32)

    answer = authorize(provider, verifier, nonce="nonce-42")
    status, token = redeem(provider, answer["code"][0], verifier)

    assert answer["state"] == ["s-1"]
    assert status == 200
    _, _, key_set = request(provider, "GET", "/jwks")
    claims = jwt.decode(
        token["id_token"], KeySet.import_key_set(json.loads(key_set))
    ).claims
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == CLIENT_ID
    assert (claims["email"], claims["name"]) == ("ines@example.com", "Ines Example")
    assert claims["nonce"] == "nonce-42"
    assert claims["exp"] > claims["iat"]
    userinfo_status, _, userinfo = request(
        provider,
        "GET",
        "/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert userinfo_status == 200
    assert json.loads(userinfo)["sub"] == claims["sub"]


def test_discovery_names_endpoints_under_the_issuer(
    provider: IdentityProvider,
) -> None:
    status, _, body = request(provider, "GET", "/.well-known/openid-configuration")
    metadata = json.loads(body)

    assert status == 200
    assert metadata["issuer"] == provider.issuer
    for endpoint in ("authorization", "token", "userinfo"):
        assert metadata[f"{endpoint}_endpoint"].startswith(provider.issuer + "/")
    assert metadata["jwks_uri"] == provider.issuer + "/jwks"


def test_a_code_is_good_once_and_only_with_its_verifier_and_the_secret(
    provider: IdentityProvider,
) -> None:
    verifier = secrets.token_urlsafe(32)
    provider.sign_in_next("ines@example.com", "Ines Example")
    code = authorize(provider, verifier)["code"][0]
    provider.sign_in_next("ines@example.com", "Ines Example")
    other_code = authorize(provider, verifier)["code"][0]

    assert redeem(provider, code, verifier, secret="wrong")[0] == 401
    assert redeem(provider, code, "not-the-verifier") == (
        400,
        {"error": "invalid_grant"},
    )
    # The attempt with the wrong verifier spent the code: one try per code.
    assert redeem(provider, code, verifier)[0] == 400
    assert redeem(provider, other_code, verifier)[0] == 200
    assert redeem(provider, other_code, verifier)[0] == 400


def test_nobody_chosen_means_the_browser_comes_back_refused(
    provider: IdentityProvider,
) -> None:
    answer = authorize(provider, secrets.token_urlsafe(32))

    assert answer["error"] == ["access_denied"]
    assert "code" not in answer
    assert provider.issued == []
