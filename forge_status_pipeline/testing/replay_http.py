"""HTTP side of the GitHub replay server: the request handler, rate-limit headers and ETags."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from forge_status_pipeline.testing.replay_messages import (
    HOST,
    _encode_json,
    _error_response,
    _Request,
    _Response,
)

if TYPE_CHECKING:
    from forge_status_pipeline.testing.replay_server import GitHubReplayServer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    """Request that the server received, with the status of its response.

    ``status`` is 0 when the server dropped the connection without a response. ``elapsed`` is the
    time in seconds from reading the request to having the response ready, latency included.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    headers: dict[str, str]
    elapsed: float


@dataclass(frozen=True)
class _RateState:
    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def _decorate(response: _Response, state: _RateState) -> _Response:
    """Add Content-Type and rate-limit headers unless the response already sets them."""
    headers: dict[str, str] = {}
    if response.body:
        headers["Content-Type"] = "application/json; charset=utf-8"
    headers.update(
        {
            "X-RateLimit-Limit": str(state.limit),
            "X-RateLimit-Remaining": str(state.remaining),
            "X-RateLimit-Reset": str(state.reset),
            "X-RateLimit-Used": str(state.used),
            "X-RateLimit-Resource": "core",
        }
    )
    overrides = {name.lower() for name in response.headers}
    merged = {name: value for name, value in headers.items() if name.lower() not in overrides}
    merged.update(response.headers)
    return _Response(response.status, response.body, merged)


def _rate_limit_response(state: _RateState) -> _Response:
    core = {
        "limit": state.limit,
        "used": state.used,
        "remaining": state.remaining,
        "reset": state.reset,
        "resource": "core",
    }
    return _Response(HTTPStatus.OK, _encode_json({"resources": {"core": core}, "rate": core}))


def _exhausted_response(state: _RateState) -> _Response:
    message = (
        f"API rate limit exceeded for {HOST}. The budget of {state.limit} requests refills at "
        "the epoch second in X-RateLimit-Reset."
    )
    return _error_response(HTTPStatus.FORBIDDEN, message)


def _unauthorized_response(headers: Message) -> _Response:
    if headers.get("Authorization") is None:
        return _error_response(HTTPStatus.UNAUTHORIZED, "Requires authentication")
    return _error_response(HTTPStatus.UNAUTHORIZED, "Bad credentials")


def _etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Compare If-None-Match with the weak comparison that RFC 9110 specifies for it."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    expected = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == expected for tag in if_none_match.split(","))


class _ReplayHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks open connections so stop() can close idle keep-alives."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        replay: GitHubReplayServer,
    ) -> None:
        self.replay = replay
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("Connection was already closed at stop", exc_info=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect mid-response are expected in fault tests.
        logger.debug("Connection from %s failed", client_address, exc_info=True)


class _ReplayHandler(BaseHTTPRequestHandler):
    # Send small responses at once instead of waiting for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _ReplayHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Skip the access log line that BaseHTTPRequestHandler writes to stderr."""

    def _serve(self) -> None:
        started = time.monotonic()
        self._discard_request_body()
        parts = urlsplit(self.path)
        request = _Request(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=self.headers,
        )

        replay = self.server.replay
        try:
            response = replay._respond(request)
        except Exception:
            logger.exception(
                "Replay server failed to build a response to %s %s", self.command, self.path
            )
            response = _error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Replay server error")

        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            status=response.status if response is not None else 0,
            headers=dict(self.headers.items()),
            elapsed=time.monotonic() - started,
        )
        replay._record(record)

        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _discard_request_body(self) -> None:
        """Read any request body so the next request on a keep-alive connection parses."""
        length = self.headers.get("Content-Length")
        if length is not None and length.isdigit():
            self.rfile.read(int(length))
