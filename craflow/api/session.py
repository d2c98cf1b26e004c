"""One logical request: authenticate, pace, send, retry, translate errors.

The client holds the policy (which endpoint, which model); this module holds the
mechanism, and it is the one boundary where httpx exceptions become ours.
"""

import json
import logging
import mimetypes
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from config.api import ApiSettings, RetrySettings
from craflow.api.auth import Credentials
from craflow.api.errors import (
    ApiError,
    ApiTimeoutError,
    DeadlineExceededError,
    NetworkError,
    ServerUnresponsiveError,
    TokenExpiredError,
    TransportError,
    UnexpectedResponseError,
)
from craflow.api.ratelimit import AdaptivePacer, Pacer, SendAwarePacer, bucket_for
from craflow.api.retry import Failure, Outcome, retry_delay, retry_reason, server_wait

logger = logging.getLogger("craflow.api")

_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart `file`, re-opened from disk for every attempt."""

    path: Path
    filename: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @contextmanager
    def files(self) -> Iterator[dict[str, tuple[str, Any, str]]]:
        content_type = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        with self.path.open("rb") as handle:
            yield {"file": (self.filename, handle, content_type)}


def classify(exc: httpx.TransportError) -> Failure:
    """What an httpx transport failure means for whether the server saw the request."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Failure.CONNECT
    if isinstance(exc, httpx.PoolTimeout):
        return Failure.POOL_TIMEOUT
    if isinstance(exc, httpx.WriteTimeout):
        return Failure.WRITE_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):
        return Failure.READ_TIMEOUT
    return Failure.CONNECTION_LOST


def translate(exc: httpx.TransportError, method: str, path: str) -> TransportError:
    """Our exception for an httpx transport failure (no headers, no secrets in the text)."""
    failure = classify(exc)
    message = f"{failure.value} on {method} {path}: {type(exc).__name__}"
    detail = str(exc).strip()
    if detail:
        message += f": {detail.splitlines()[0][:200]}"
    kind = (
        NetworkError if failure in {Failure.CONNECT, Failure.CONNECTION_LOST} else ApiTimeoutError
    )
    if isinstance(exc, httpx.ConnectTimeout):
        kind = ApiTimeoutError
    return kind(message, method=method, url=path)


class ApiSession:
    """Sends requests through one `httpx.Client` with auth, pacing and retries."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        settings: ApiSettings,
        retry: RetrySettings,
        credentials: Credentials,
        pacer: Pacer,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
    ) -> None:
        self._client = client
        self._settings = settings
        self._retry = retry
        self._credentials = credentials
        self._pacer = pacer
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._deadline = clock() + settings.run_deadline_seconds
        self._last_answer = clock()  # the last time the server answered anything
        self._json_timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.json_read_timeout,
            write=settings.json_read_timeout,
            pool=settings.pool_timeout,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Mapping[str, Any] | None = None,
        upload: Upload | None = None,
        repeatable: bool | None = None,
        idempotent: bool = False,
        authenticated: bool = True,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one logical request; return a successful response or raise our error.

        `repeatable` defaults to True for GET/HEAD; repeatable requests are repeated on
        transport failures, 500 and 502/503/504. `idempotent=True` says the server
        deduplicates this write by its Idempotency-Key, so a 500 is repeated too (the
        contract promises that for no endpoint yet, so no caller sets it). A 429 is always
        waited out, within the run's deadline. With `stream=True` the body is left unread and
        the caller must close the response.
        """
        method = method.upper()
        if repeatable is None:
            repeatable = method in _SAFE_METHODS
        bucket = bucket_for(method, path)
        base_headers = {"Accept": "application/json"}
        if method not in _SAFE_METHODS:
            base_headers["Idempotency-Key"] = str(uuid.uuid4())
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            self._check_deadline(method, path, 0.0)
            headers = dict(base_headers)
            authorization = None
            if authenticated:
                authorization = self._credentials.authorization(self._post_unauthenticated)
                headers["Authorization"] = authorization
            self._pacer.acquire(bucket)
            try:
                response = self._send(
                    method=method,
                    path=path,
                    params=params,
                    json_body=json_body,
                    upload=upload,
                    headers=headers,
                    stream=stream,
                    bucket=bucket,
                )
                self._last_answer = self._clock()
                self._pacer.observe(bucket, response.headers)
                if response.status_code < 400 and not stream:
                    _read_and_close(response)  # a body cut mid-way is a failed attempt too
            except httpx.TransportError as exc:
                outcome = Outcome(failure=classify(exc))
                self._check_silence(method, path, outcome)
                reason = retry_reason(
                    outcome,
                    repeatable=repeatable,
                    attempt=attempt,
                    max_attempts=self._retry.max_attempts,
                )
                if reason is None:
                    raise translate(exc, method, path) from exc
                self._wait(
                    method=method,
                    path=path,
                    attempt=attempt,
                    reason=reason,
                    outcome=outcome,
                    headers=httpx.Headers(),
                )
                continue
            if response.status_code < 400:
                return response
            error = self._error(response, method, path)
            if (
                isinstance(error, TokenExpiredError)
                and authorization is not None
                and not renewed
                and self._credentials.renew(self._post_unauthenticated, authorization)
            ):
                renewed = True
                attempt -= 1  # the refresh is not one of the retry attempts
                logger.info("token expired on %s %s: refreshed, sending again", method, path)
                continue
            outcome = Outcome(status=response.status_code)
            if response.status_code == 429:
                # back-pressure, not failure: waited out within the run's deadline, and not
                # one of the retry attempts (the pacer slows down so it does not recur)
                attempt -= 1
                if isinstance(self._pacer, AdaptivePacer):
                    self._pacer.throttled(bucket, getattr(error, "retry_after", None))
            reason = retry_reason(
                outcome,
                repeatable=repeatable,
                idempotent=idempotent,
                attempt=attempt,
                max_attempts=self._retry.max_attempts,
            )
            if reason is None:
                raise error
            self._wait(
                method=method,
                path=path,
                attempt=attempt,
                reason=reason,
                outcome=outcome,
                headers=response.headers,
            )

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> object:
        return decode_json(self.request("GET", path, params=params), path)

    def _post_unauthenticated(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        payload = decode_json(
            self.request("POST", path, json_body=body, repeatable=True, authenticated=False),
            path,
        )
        if not isinstance(payload, Mapping):
            raise UnexpectedResponseError(f"{path} answered something other than a JSON object")
        return payload

    def _send(
        self,
        *,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json_body: Mapping[str, Any] | None,
        upload: Upload | None,
        headers: dict[str, str],
        stream: bool = False,
        bucket: str | None = None,
    ) -> httpx.Response:
        if upload is None:
            # a small JSON call gets a short read timeout; a download is timed by progress
            timeout = httpx.USE_CLIENT_DEFAULT if stream else self._json_timeout
            request = self._client.build_request(
                method, path, params=params, json=json_body, headers=headers, timeout=timeout
            )
            return self._client.send(self._traced(request, bucket), stream=True)
        with upload.files() as files:
            request = self._client.build_request(
                method, path, params=params, data=dict(upload.fields), files=files, headers=headers
            )
            return self._client.send(self._traced(request, bucket), stream=True)

    def _traced(self, request: httpx.Request, bucket: str | None) -> httpx.Request:
        """Tell a send-aware pacer the moment the request is written to the socket."""
        pacer = self._pacer
        if bucket is not None and isinstance(pacer, SendAwarePacer):

            def trace(event: str, info: Mapping[str, Any]) -> None:
                if event == "http11.send_request_headers.started":
                    pacer.sent(bucket)

            request.extensions["trace"] = trace
        return request

    def _error(self, response: httpx.Response, method: str, path: str) -> ApiError:
        limit = self._settings.error_body_max_bytes
        content = b""
        try:
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) >= limit:
                    break
        except httpx.TransportError:
            pass  # what arrived is enough to describe the error
        finally:
            response.close()
        retry_after = None
        if response.status_code == 429:
            retry_after = server_wait(
                response.headers, now=self._clock(), cap=self._retry.rate_limit_wait_cap_seconds
            )
        error = ApiError.from_parts(
            response.status_code,
            content[:limit],
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
        )
        logger.debug("%s %s failed: %s", method, path, error)
        return error

    def _check_deadline(self, method: str, path: str, delay: float) -> None:
        if self._clock() + delay > self._deadline:
            raise DeadlineExceededError(
                f"{method} {path}: the run's deadline "
                f"({self._settings.run_deadline_seconds:g} s) has passed"
            )

    def _check_silence(self, method: str, path: str, outcome: Outcome) -> None:
        silent = self._clock() - self._last_answer
        if outcome.failure is not None and silent >= self._settings.unresponsive_after_seconds:
            raise ServerUnresponsiveError(
                f"{method} {path}: the server has answered nothing for {silent:.0f} s "
                f"(last: {outcome.describe()}); giving up"
            )

    def _wait(
        self,
        *,
        method: str,
        path: str,
        attempt: int,
        reason: str,
        outcome: Outcome,
        headers: httpx.Headers,
    ) -> None:
        delay = retry_delay(
            outcome,
            headers,
            attempt=attempt,
            now=self._clock(),
            settings=self._retry,
            jitter=self._jitter,
        )
        self._check_deadline(method, path, delay)
        logger.info(
            "retrying %s %s (attempt %d of %d) after %s: waiting %.2f s",
            method,
            path,
            attempt + 1,
            self._retry.max_attempts,
            reason,
            delay,
        )
        self._sleep(delay)


def _read_and_close(response: httpx.Response) -> None:
    try:
        response.read()
    finally:
        response.close()


def decode_json(response: httpx.Response, path: str) -> object:
    """The decoded JSON body of a successful response, or UnexpectedResponseError."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise UnexpectedResponseError(
            f"{path} answered {response.status_code} with a body that is not JSON"
        ) from None
