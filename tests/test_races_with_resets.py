"""Requests racing presenters' resets: whatever the interleaving, every answer is a 2xx or a
documented 4xx or 503, never a 500."""

from __future__ import annotations

import threading
from collections import Counter

from conftest import DictConnection, body_of, invoke, load_event
from test_workflows import context, save, start

from squelch import db
from squelch.domain import demo

DOCUMENTED = {200, 201, 404, 409, 422, 503}


def test_starts_steps_and_reads_during_resets_never_answer_500(story: DictConnection) -> None:
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    stop = threading.Event()

    def record(response: dict) -> dict:
        statuses[response["statusCode"]] += 1
        if response["statusCode"] not in DOCUMENTED:
            failures.append(response["body"])
        return response

    def presenter_client() -> None:
        try:
            while not stop.is_set():
                started = record(start())
                if started["statusCode"] in (200, 201):
                    session_id = body_of(started)["session_id"]
                    step = body_of(started)["current_step"]
                    record(save(session_id, min(step + 1, 4), {"note": "racing a reset"}))
                    record(context(session_id))
                record(invoke("HealthGetFunction", load_event("health_get.json")))
        finally:
            db.close()

    clients = [threading.Thread(target=presenter_client) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        for _ in range(25):
            demo.reset_demo(True, None, "racing-presenter", None)
    finally:
        stop.set()
    for client in clients:
        client.join()
    assert not failures, failures[:3]
    assert statuses[201] + statuses[200] > 25, statuses
