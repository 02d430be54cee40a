"""What the local servers pass between them: a request as a client sent it (headers lower-cased), and the
response the gateway makes of a function's answer. The server, the gateway and the console's sign-in all
read these, so they live apart from each of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HttpRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    function: str | None = None  # the logical id of the function that answered, for the server's log line
