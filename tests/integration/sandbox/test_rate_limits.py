"""Published rate limits, scaled with rate_scale so a test can reach them quickly."""

import pytest

from tests.fixtures.sandbox import SandboxFactory
from tests.integration.sandbox.helpers import raw

pytestmark = pytest.mark.integration


def test_auth_bucket_answers_429_with_retry_after(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(rate_scale=6)  # "5 per minute" becomes "5 per 10 seconds"
    with raw(sandbox) as http:
        answers = [http.post("/api/v1/auth/login", json={}) for _ in range(6)]
    assert [a.status_code for a in answers] == [422] * 5 + [429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"5"}
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert int(refused.headers["x-ratelimit-reset"]) >= int(answers[0].headers["x-ratelimit-reset"])
    assert refused.headers["x-request-id"] == refused.json()["error"]["request_id"]


def test_write_bucket_is_per_key_and_separate_from_reads(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory()  # the published 60 writes per minute
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    with raw(sandbox) as http:
        writes = [
            http.post("/api/v1/products", json={"name": f"p{i}"}, headers=headers)
            for i in range(61)
        ]
        read = http.get("/api/v1/products", headers=headers)
    assert [w.status_code for w in writes[:60]] == [201] * 60
    assert writes[60].status_code == 429
    assert writes[0].headers["x-ratelimit-limit"] == "60"
    assert read.status_code == 200
    assert read.headers["x-ratelimit-limit"] == "300"
