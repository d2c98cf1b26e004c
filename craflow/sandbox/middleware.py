"""ASGI middleware: request ids, rate limits and the upload size cap on every request.

- `X-Request-ID` on every answer (also stored in `scope["state"]["request_id"]`).
- `X-RateLimit-*` on every `/api/v1` answer; 429 with `Retry-After` past the limit.
- Bodies: uploads are capped at `max_upload_bytes` (+ multipart room), every other
  body (JSON, forms) at `max_json_bytes`: 413 at once when `Content-Length` is too
  large, else counted while the body streams in (cut off as soon as it passes).
- Unauthenticated failures (401) are also counted per client address, so random
  keys cannot dodge the limit: past it the address gets 429 before any key check.
"""

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from craflow.sandbox.errors import ApiError, problem_body
from craflow.sandbox.ratelimit import Decision, bucket_name
from craflow.sandbox.state import SandboxState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _caller(scope: Scope, bucket: str) -> str:
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"")
    if bucket != "auth" and auth.lower().startswith(b"bearer "):
        return "token:" + hashlib.sha256(auth[7:].strip()).hexdigest()[:24]
    return _address(scope)


def _address(scope: Scope) -> str:
    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"


def _rate_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit", str(decision.limit).encode()),
        (b"x-ratelimit-remaining", str(decision.remaining).encode()),
        (b"x-ratelimit-reset", str(decision.reset_at).encode()),
    ]


async def _send_problem(
    send: Send,
    *,
    status: int,
    code: str,
    detail: str,
    request_id: str,
    headers: list[tuple[bytes, bytes]],
) -> None:
    body = json.dumps(problem_body(status, code, detail, request_id)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", request_id.encode())]
        path, method = scope["path"], scope["method"]
        bucket = bucket_name(method, path)
        if path.startswith("/api/v1"):
            failures = self.state.limiter.peek(_address(scope), "unauthenticated-" + bucket)
            decision = self.state.limiter.hit(_caller(scope, bucket), bucket)
            if failures is not None and not failures.allowed:
                decision = failures
            extra += _rate_headers(decision)
            if not decision.allowed:
                extra.append((b"retry-after", str(decision.retry_after).encode()))
                await _send_problem(
                    send,
                    status=429,
                    code="RATE_LIMIT_EXCEEDED",
                    detail=f"Rate limit of {decision.limit} requests exceeded for the {bucket}"
                    " bucket",
                    request_id=request_id,
                    headers=extra,
                )
                return
        if scope["method"] in _BODY_METHODS:
            settings = self.state.settings
            cap = (
                settings.max_upload_bytes + settings.multipart_overhead_bytes
                if bucket == "upload"
                else settings.max_json_bytes
            )
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            if length.isdigit() and int(length) > cap:
                await _send_problem(
                    send,
                    status=413,
                    code="PAYLOAD_TOO_LARGE",
                    detail=f"Request body is larger than the limit of {cap} bytes",
                    request_id=request_id,
                    headers=extra,
                )
                return
            receive = _capped(receive, cap)
        scope["state"]["response_headers"] = extra

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
                if message["status"] == 401 and path.startswith("/api/v1"):
                    self.state.limiter.hit(_address(scope), "unauthenticated-" + bucket)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _capped(receive: Receive, cap: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise ApiError(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"Request body is larger than the limit of {cap} bytes",
                )
        return message

    return counted
