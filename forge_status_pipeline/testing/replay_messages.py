"""Request and response values of the GitHub replay server, and its GitHub-style error bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from typing import Any

JSONObject = dict[str, Any]

HOST = "127.0.0.1"
# Only a string inside error bodies, as GitHub sends one. The server never fetches it.
DOCUMENTATION_URL = "https://docs.github.com/rest"


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: Message


def _not_found() -> _Response:
    return _error_response(HTTPStatus.NOT_FOUND, "Not Found")


def _error_response(status: int, message: str) -> _Response:
    body = {"message": message, "documentation_url": DOCUMENTATION_URL, "status": str(status)}
    return _Response(status, _encode_json(body))


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
