"""Bearer keys on every request: Lettr's 401 messages, a revoked key refused at once, 403
insufficient_scope checked before the body, /api/health open to all; the SDK raises its
matching exceptions."""

from __future__ import annotations

from pathlib import Path

import httpx
import lettr as sdk
import pytest

from tests.api_helpers import api_server, make_key


def test_missing_invalid_and_revoked_keys_get_lettrs_401(lettr, isolated_home: Path) -> None:
    key = make_key(lettr, "ci")
    with api_server(isolated_home) as base:
        with httpx.Client() as http:
            missing = http.get(f"{base}/auth/check")
            not_bearer = http.get(f"{base}/auth/check", headers={"Authorization": f"Basic {key}"})
        assert missing.status_code == 401 and not_bearer.status_code == 401
        assert missing.json() == {"message": "API key is required."}
        with sdk.Lettr("lttr_" + "0" * 64, base_url=base) as api:
            with pytest.raises(sdk.AuthenticationError, match=r"Invalid API key\."):
                api.auth_check()
            assert api.health().status == "ok"  # no key needed
        with sdk.Lettr(key, base_url=base) as api:
            assert api.auth_check().team_id == 1
            assert lettr("apikey", "revoke", "ci").exit_code == 0
            with pytest.raises(sdk.AuthenticationError, match=r"Invalid API key\."):
                api.auth_check()


def test_a_key_without_the_scope_gets_403_before_its_body_is_read(
    lettr, isolated_home: Path
) -> None:
    key = make_key(lettr, "reader", "campaigns:read")
    with api_server(isolated_home) as base:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as http:
            bad_body = http.post(
                f"{base}/campaigns/00000000-0000-0000-0000-000000000000/schedule",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            )
            audience = http.get(f"{base}/campaigns")
        assert bad_body.status_code == 403
        assert bad_body.json() == {
            "message": "Your API key does not have the required permissions for this action.",
            "error_code": "insufficient_scope",
        }
        assert audience.status_code == 200
        with sdk.Lettr(key, base_url=base) as api, pytest.raises(sdk.ForbiddenError) as refused:
            api.campaigns.send("00000000-0000-0000-0000-000000000000")
        assert refused.value.error_code == "insufficient_scope"


def test_a_body_that_is_not_a_json_object_is_a_422(lettr, isolated_home: Path) -> None:
    key = make_key(lettr)
    with (
        api_server(isolated_home) as base,
        httpx.Client(
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        ) as http,
    ):
        for content in (b"{not json", b"[1, 2]"):
            answer = http.post(f"{base}/campaigns/x/schedule", content=content)
            assert answer.status_code == 422
            body = answer.json()
            assert body["error_code"] == "validation_error" and "body" in body["errors"]
