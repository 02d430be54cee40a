"""Faults and the security of identifiers: a database that never answers, unguessable sessions."""

from __future__ import annotations

import re
import socket
import string

from conftest import DictConnection, body_of, invoke, load_event, use_environment
from test_workflows import context, start

from squelch.domain import workflows


def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(story: DictConnection, monkeypatch) -> None:
    # Given a server that accepts TCP connections and then says nothing (a black hole, not a refusal)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    use_environment(
        monkeypatch,
        DATABASE_URL=f"postgresql://squelch@127.0.0.1:{silent.getsockname()[1]}/squelch",
        DB_CONNECT_TIMEOUT="1",
    )
    try:
        # When a route needs the database, then it gives up at the connect timeout with a 503
        response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    finally:
        silent.close()
    assert response["statusCode"] == 503
    assert body_of(response)["error"] == {
        "code": "database_unavailable",
        "message": "The database is not reachable; try again shortly.",
        "details": [],
    }


def test_session_ids_are_long_random_and_unique() -> None:
    ids = {workflows.new_session_id() for _ in range(5000)}
    assert len(ids) == 5000
    alphabet = set(string.ascii_letters + string.digits + "-_")
    for session_id in ids:
        assert re.fullmatch(r"wf-[A-Za-z0-9_-]{24}", session_id) and set(session_id[3:]) <= alphabet
    # 24 URL-safe characters carry 144 random bits: each position takes many values across ids.
    assert all(len({s[3 + i] for s in ids}) > 50 for i in range(24))


def test_only_the_exact_session_id_opens_a_session(story: DictConnection) -> None:
    # Given a real session id (its 144 random bits are checked above)
    real = body_of(start())["session_id"]
    # Then every near miss, at every position, in case, length or a pattern character, is a plain 404
    # that says no more about the real id than a never-issued one
    swapped = [real[:i] + ("B" if real[i] != "B" else "C") + real[i + 1 :] for i in range(3, len(real))]
    near = [
        *swapped,
        real.upper(),
        real.lower(),
        real[:-1],
        real + "A",
        real[:-1] + "%",
        real[:-1] + "_",
        real.replace("wf-", "WF-"),
        "wf-%",
        "wf-_" + "_" * 23,
        f" {real}",
    ]
    never_issued = body_of(context("wf-" + "A" * 24))["error"]
    for guess in (g for g in near if g != real):
        answer = context(guess)
        assert answer["statusCode"] == 404, guess
        assert body_of(answer)["error"] | {"message": ""} == never_issued | {"message": ""}, guess
    assert context(real)["statusCode"] == 200
