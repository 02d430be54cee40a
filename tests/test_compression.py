"""Compression: answers over 1 KiB are gzip-coded when the client accepts gzip, as API Gateway HTTP
APIs pass them on (base64 with isBase64Encoded, Content-Encoding: gzip), and the local server
passes the bytes through unchanged; every answer says it varies by Accept-Encoding."""

from __future__ import annotations

import base64
import gzip
import json
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import DictConnection, body_of, http_request, invoke, load_event
from test_conditional_requests import STRONG_TAG, assert_not_modified

from squelch.http import compression

AI_ROUTES = {
    "RiskAnalysisCreateFunction": "risk_analysis_create.json",
    "OpportunityAnalysisCreateFunction": "opportunity_analysis_create.json",
    "EmailDraftCreateFunction": "email_draft_create.json",
}


def call(function: str, event_file: str, **headers: str) -> dict[str, Any]:
    event = load_event(event_file)
    event["headers"] = {**event["headers"], **headers}
    return invoke(function, event)


def decoded(response: dict[str, Any]) -> Any:
    """The JSON of an answer as a client sees it once API Gateway has decoded base64 and it has gunzipped."""
    assert response["isBase64Encoded"] is True
    assert response["headers"]["Content-Encoding"] == "gzip"
    return json.loads(gzip.decompress(base64.b64decode(response["body"])))


@pytest.mark.parametrize("function", list(AI_ROUTES))
def test_ai_answers_are_gzipped_when_the_client_accepts_it(story: DictConnection, function: str) -> None:
    # Given an AI route's answer without and with Accept-Encoding: gzip
    plain = call(function, AI_ROUTES[function])
    packed = call(function, AI_ROUTES[function], **{"accept-encoding": "gzip, deflate, br"})
    # Then the plain one is JSON text, the other the same JSON gzip-coded, and much smaller
    assert plain["statusCode"] == packed["statusCode"] == 200
    assert plain["isBase64Encoded"] is False and "Content-Encoding" not in plain["headers"]
    assert len(plain["body"].encode()) >= compression.MIN_BYTES
    assert decoded(packed) == body_of(plain)
    assert len(base64.b64decode(packed["body"])) < 0.6 * len(plain["body"].encode())
    for response in (plain, packed):
        assert "accept-encoding" in response["headers"]["Vary"].lower()


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("br, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("br", False),
        ("identity", False),
        ("gzip;q=nonsense", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_qualities(story: DictConnection, accept_encoding: str, gzipped: bool) -> None:
    # Given a large answer
    # When the client says which codings it takes
    response = call("RiskAnalysisCreateFunction", "risk_analysis_create.json", **{"accept-encoding": accept_encoding})
    # Then gzip is used only when it is acceptable (q above 0, named or by *)
    assert response["statusCode"] == 200
    assert (response["headers"].get("Content-Encoding") == "gzip") is gzipped
    assert response["isBase64Encoded"] is gzipped


def test_small_answers_stay_plain(story: DictConnection) -> None:
    # Given answers under the threshold: the profile, and an error
    profile = call("CustomerGetFunction", "customer_get.json", **{"accept-encoding": "gzip"})
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/nobody"
    event["pathParameters"] = {"customer_ref": "nobody"}
    event["headers"] = {**event["headers"], "accept-encoding": "gzip"}
    error = invoke("CustomerGetFunction", event)
    # Then neither is compressed: gzip would save next to nothing
    for response in (profile, error):
        assert len(response["body"].encode()) < compression.MIN_BYTES
        assert response["isBase64Encoded"] is False
        assert "Content-Encoding" not in response["headers"]
        assert "accept-encoding" in response["headers"]["Vary"].lower()


def test_a_gzipped_get_has_its_own_strong_tag_and_both_revalidate(story: DictConnection) -> None:
    # Given the ticket list (over the threshold), plain and gzipped
    plain = call("TicketsListFunction", "tickets_list.json")
    packed = call("TicketsListFunction", "tickets_list.json", **{"accept-encoding": "gzip"})
    plain_tag, packed_tag = plain["headers"]["ETag"], packed["headers"]["ETag"]
    # Then each coding has its own strong tag (RFC 9110 8.8.3), the gzip one named after the other
    assert decoded(packed) == body_of(plain)
    assert STRONG_TAG.match(plain_tag)
    assert packed_tag == plain_tag[:-1] + '-gzip"'
    # And a client holding either copy gets 304 with the tag it holds, whatever it accepts now
    for held in (plain_tag, packed_tag):
        for accepted in ("gzip", "identity"):
            response = call(
                "TicketsListFunction", "tickets_list.json", **{"if-none-match": held, "accept-encoding": accepted}
            )
            assert_not_modified(response, held)


def test_the_same_answer_is_the_same_bytes(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two gzipped answers of the same story (a strong tag promises identical bytes), compressed
    # a day apart as far as gzip's clock knows (the gzip header has room for the time of compression)
    days = iter(range(1_800_000_000, 1_900_000_000, 86_400))
    monkeypatch.setattr(gzip, "time", SimpleNamespace(time=lambda: float(next(days))))
    first = call("TicketsListFunction", "tickets_list.json", **{"accept-encoding": "gzip"})
    second = call("TicketsListFunction", "tickets_list.json", **{"accept-encoding": "gzip"})
    # Then the bytes are identical: no timestamp in the gzip header
    assert first["body"] == second["body"]
    assert first["headers"]["ETag"] == second["headers"]["ETag"]


def test_the_local_server_passes_gzip_through(server: str) -> None:
    # Given the local server
    # When a client that takes gzip asks for a large answer
    status, headers, body = http_request(
        f"{server}/api/ai/risk-analysis",
        "POST",
        json.dumps({"customer_id": "aco-001"}).encode(),
        Content_Type="application/json",
        Accept_Encoding="gzip",
        Origin="http://localhost:5173",
    )
    # Then the gzip bytes arrive as they left the function, with their coding and length
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(gzip.decompress(body))["customer_id"] == "aco-001"
    # And the gateway's Origin joins the function's Vary instead of replacing it
    varies = [name.strip().lower() for name in headers["vary"].split(",")]
    assert sorted(varies) == ["accept-encoding", "origin", "x-demo-sandbox"]


def test_the_local_server_answers_304_without_content(server: str) -> None:
    # Given a profile fetched through the local server, and its tag
    status, headers, _ = http_request(f"{server}/api/customers/aco")
    assert status == 200
    # When it is fetched again with the tag, from a browser page
    status, again, body = http_request(
        f"{server}/api/customers/aco", If_None_Match=headers["etag"], Origin="http://localhost:5173"
    )
    # Then 304, no body and no Content-Length (a 304's would have to be its 200's), the tag readable by the page
    assert status == 304
    assert body == b""
    assert "content-length" not in again
    assert again["etag"] == headers["etag"]
    assert again["cache-control"] == "private, no-cache"
    assert "ETag" in again["access-control-expose-headers"].split(",")


def test_vary_adds_each_name_once_to_the_header_already_there_whatever_its_case() -> None:
    # Given an answer that already varies by two headers, under a lower-case header name, one of them in capitals
    headers = {"vary": "ORIGIN,  Cookie", "Content-Type": "application/json"}
    # When the resolver's names are added
    compression.vary(headers, "X-Demo-Sandbox", "Origin", "Accept-Encoding")
    # Then the one header lists those it had, then the new names, each once
    assert headers == {"vary": "ORIGIN, Cookie, X-Demo-Sandbox, Accept-Encoding", "Content-Type": "application/json"}


@pytest.mark.parametrize(("size", "gzipped"), [(compression.MIN_BYTES - 1, False), (compression.MIN_BYTES, True)])
def test_an_answer_of_min_bytes_is_the_smallest_that_is_gzipped(size: int, gzipped: bool) -> None:
    # Given JSON answers of one byte below the threshold and of the threshold itself, that gzip shrinks
    body = json.dumps({"pad": "a" * (size - len('{"pad": ""}'))})
    assert len(body.encode()) == size
    response: dict[str, Any] = {"statusCode": 200, "headers": {}, "body": body}
    # When the client takes gzip, Then only the second is gzipped
    compression.compress(response, "gzip")
    assert (response["headers"].get("Content-Encoding") == "gzip") is gzipped
    if gzipped:
        assert gzip.decompress(base64.b64decode(response["body"])).decode() == body
