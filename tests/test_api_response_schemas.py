"""Each object schema in /api/openapi.json matches what the endpoints really answer: a store
with one of everything is read and changed over real HTTP, and every answer is validated against
the schema its operation documents, made strict (no field left undocumented)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
from jsonschema_rs import Draft202012Validator

from tests.api_helpers import api_server, make_key
from tests.send_cases import import_audience
from tests.sending_helpers import new_campaign

JSON = "application/json"


def _strict(schema: Any) -> Any:
    """``schema`` with every object closed: a field the answer has and the schema lacks fails."""
    if isinstance(schema, dict):
        closed = {key: _strict(value) for key, value in schema.items()}
        if "properties" in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def _typed(schema: Any) -> bool:
    return bool(schema.get("properties", {}).get("data"))


class Checker:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.spec = http.get("/openapi.json").json()
        self.components = _strict(copy.deepcopy(self.spec["components"]))
        self.checked: set[tuple[str, str]] = set()

    def __call__(self, method: str, template: str, body: Any = None, **params: str) -> Any:
        path = template.format(**params)
        answer = self.http.request(method, path, json=body)
        documented = self.spec["paths"][template][method.lower()]["responses"]
        assert str(answer.status_code) in documented, (method, path, answer.text)
        schema = documented[str(answer.status_code)]["content"][JSON]["schema"]
        assert _typed(schema), f"{method} {template} documents no typed data"
        validator = Draft202012Validator({**_strict(schema), "components": self.components})
        errors = [
            f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(answer.json())
        ]
        assert not errors, (method, path, errors)
        self.checked.add((template, method.lower()))
        return answer.json()["data"]


def test_every_documented_object_matches_the_answers(
    lettr, relay, responder, isolated_home: Path, tmp_path: Path
) -> None:
    """``relay``: example.com verified and the relay on loopback; ``responder``: an empty DNS."""
    import_audience(lettr, tmp_path, ["ann@example.com", "bob@example.org"], "Customers")
    sale = new_campaign(lettr, tmp_path, "Sale")
    later = new_campaign(lettr, tmp_path, "Later")
    key = make_key(lettr)
    with (
        api_server(isolated_home, responder.nameserver) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http,
    ):
        check = Checker(http)
        check("GET", "/campaigns")
        check("GET", "/campaigns/{campaign_id}", campaign_id=sale)
        check("POST", "/campaigns/{campaign_id}/schedule", {"scheduled_at": "2099-01-01T09:00:00Z"},
              campaign_id=later)  # fmt: skip
        check("POST", "/campaigns/{campaign_id}/unschedule", campaign_id=later)
        check("POST", "/campaigns/{campaign_id}/send", campaign_id=sale)
        check("GET", "/campaigns/{campaign_id}/events", campaign_id=sale)

        prop = check("POST", "/audience/properties", {"name": "plan", "type": "string"})
        check("GET", "/audience/properties")
        check("GET", "/audience/properties/{id}", id=prop["id"])
        check("PATCH", "/audience/properties/{id}", {"fallback_value": "free"}, id=prop["id"])
        for kind, body in (("lists", {"name": "VIP"}), ("topics", {"name": "News"})):
            made = check("POST", f"/audience/{kind}", body)
            check("GET", f"/audience/{kind}")
            check("GET", f"/audience/{kind}/{{id}}", id=made["id"])
            check("PATCH", f"/audience/{kind}/{{id}}", {"name": "Renamed"}, id=made["id"])
        contact = check("POST", "/audience/contacts", {"email": "cy@example.com",
                                                       "properties": {"plan": "pro"}})  # fmt: skip
        check("GET", "/audience/contacts")
        check("GET", "/audience/contacts/{id}", id=contact["id"])
        check("PATCH", "/audience/contacts/{id}", {"status": "unsubscribed"}, id=contact["id"])
        conditions = {"groups": [{"conditions": [
            {"field": "email", "operator": "contains", "value": "example"}]}]}  # fmt: skip
        segment = check("POST", "/audience/segments", {"name": "All", "conditions": conditions})
        check("GET", "/audience/segments")
        check("GET", "/audience/segments/{id}", id=segment["id"])
        check("PATCH", "/audience/segments/{id}", {"name": "Everyone"}, id=segment["id"])

        check("GET", "/health")
        check("GET", "/auth/check")
        vip = check("POST", "/audience/lists", {"name": "Gold"})["id"]
        news = check("POST", "/audience/topics", {"name": "Weekly"})["id"]
        one = {"contact_id": contact["id"]}
        check("POST", "/audience/contacts/{contact_id}/lists/{group_id}", group_id=vip, **one)
        check("POST", "/audience/contacts/{contact_id}/topics/{group_id}", group_id=news, **one)
        both = {"contact_ids": [contact["id"]], "list_ids": [vip], "topic_ids": [news]}
        for verb in ("POST", "DELETE"):
            check(verb, "/audience/contacts/lists/bulk", both)
            check(verb, "/audience/contacts/topics/bulk", both)
        check("POST", "/audience/contacts/bulk", {"emails": ["dee@example.com", "not an email"]})
        check("DELETE", "/audience/lists/bulk", {"list_ids": [vip]})
        check("GET", "/domains")
        check("POST", "/domains", {"domain": "news.example.com"})
        check("GET", "/domains/{domain}", domain="example.com")
        check("POST", "/domains/{domain}/verify", domain="news.example.com")
    described = {
        (path, method)
        for path, ops in check.spec["paths"].items()
        for method, op in ops.items()
        for status, answer in op["responses"].items()
        if status != "default" and _typed(answer.get("content", {}).get(JSON, {}).get("schema", {}))
    }
    untyped = {
        (path, method)
        for path, ops in check.spec["paths"].items()
        for method, op in ops.items()
        if (path, method) not in described and "204" not in op["responses"]
    }
    assert untyped == {("/openapi.json", "get")}  # every answer with data says what it holds
    assert described == check.checked
