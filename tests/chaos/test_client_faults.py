"""`CraEvidenceClient` through the fault proxy: each fault kind, and what the client promises.

Safe requests (GET, and PATCH of a state) are retried on gateway errors, 429, resets and
timeouts; unsafe ones (uploads, creates, scan triggers) only when the server cannot have
acted (429, 503 before processing). After "reset after forwarding" an unsafe request is
never repeated blindly: the caller re-reads state. Virtual time: the client's sleep is
recorded, never slept.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from craflow.api import (
    ApiTimeoutError,
    CraEvidenceError,
    NetworkError,
    ServerError,
    TransportError,
    is_transient,
)
from tests.chaos import proxy as proxy_module
from tests.chaos.conftest import SleepRecorder, sbom_file
from tests.chaos.proxy import Fault, FaultPlan, FaultProxy, ProxyRecord

pytestmark = pytest.mark.integration

MakeClient = Callable[..., tuple[Any, SleepRecorder]]


def _version(make_client: MakeClient, chaos_sandbox: Any) -> Any:
    direct, _ = make_client(base=chaos_sandbox.url)
    product = direct.create_product("chaos", slug=f"chaos-{uuid.uuid4().hex[:10]}")
    return direct.create_version(product.id, "1.0.0")


def _sboms_on(make_client: MakeClient, chaos_sandbox: Any, version_id: str) -> list[Any]:
    direct, _ = make_client(base=chaos_sandbox.url)
    return list(direct.list_sboms(version_id))


def _lines(proxy: FaultProxy, needle: str) -> list[ProxyRecord]:
    return [r for r in proxy.records if needle in r.request_line]


# -- safe requests are retried ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.RATE_LIMITED,
        Fault.RATE_LIMITED_NO_HEADER,
        Fault.BAD_GATEWAY,
        Fault.UNAVAILABLE,
        Fault.GATEWAY_TIMEOUT,
        Fault.RESET_BEFORE,
        Fault.RESET_AFTER,
    ],
)
def test_a_safe_read_is_retried_through_a_transient_fault(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, fault: Fault
) -> None:
    version = _version(make_client, chaos_sandbox)
    client, sleep = make_client()
    proxy.force(fault, fault)
    status = client.get_cra_status(version.id)
    assert status.version.id == version.id
    assert [r.fault for r in _lines(proxy, "/cra-status")] == [fault, fault, None]
    assert len(sleep.waits) == 2
    if fault is Fault.RATE_LIMITED:
        assert sleep.waits == [1.0, 1.0]  # the proxy's Retry-After: 1


def test_a_rate_limit_wait_follows_retry_after_not_backoff(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:
    client, sleep = make_client()
    proxy.force(Fault.RATE_LIMITED)
    list(client.list_products(per_page=5))
    assert sleep.waits == [1.0]


def test_a_500_on_a_read_is_retried_and_the_read_succeeds(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, sleep = make_client()
    proxy.force(Fault.SERVER_ERROR)
    client.get_cra_status(version.id)
    assert len(_lines(proxy, "/cra-status")) == 2
    assert len(sleep.waits) == 1


def test_a_500_on_a_write_is_not_retried_and_surfaces_as_server_error(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, sleep = make_client()
    proxy.force(Fault.SERVER_ERROR)
    with pytest.raises(ServerError) as caught:
        client.trigger_scan(version.id)
    assert caught.value.status == 500
    assert caught.value.request_id
    assert not is_transient(caught.value)
    assert len(_lines(proxy, "/scan")) == 1
    assert sleep.waits == []


def test_a_stall_longer_than_the_timeout_is_an_api_timeout_error(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client(max_attempts=2, read_timeout=0.3)
    proxy.force(Fault.STALL, Fault.STALL)
    with pytest.raises(ApiTimeoutError) as caught:
        client.get_cra_status(version.id)
    assert is_transient(caught.value)
    assert [r.fault for r in _lines(proxy, "/cra-status")] == [Fault.STALL, Fault.STALL]


def test_a_stall_once_is_retried_for_a_safe_read(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:
    version = _version(make_client, chaos_sandbox)
    client, _ = make_client(max_attempts=2, read_timeout=0.3)
    proxy.force(Fault.STALL)
    assert client.get_cra_status(version.id).version.id == version.id


def test_retries_give_up_after_max_attempts_with_a_typed_error(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    client, sleep = make_client(max_attempts=3)
    proxy.force(Fault.BAD_GATEWAY, Fault.BAD_GATEWAY, Fault.BAD_GATEWAY)
    with pytest.raises(ServerError) as caught:
        list(client.list_products())
    assert caught.value.status == 502
    assert len(proxy.records) == 3
    assert len(sleep.waits) == 2


def test_more_429s_than_attempts_are_waited_out_not_a_failure(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    client, sleep = make_client(max_attempts=2)
    proxy.force(*[Fault.RATE_LIMITED] * 5)
    list(client.list_products())
    assert len(proxy.records) == 6
    assert sleep.waits.count(1.0) >= 5  # each Retry-After honoured


def test_a_truncated_json_read_is_retried(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:
    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(Fault.TRUNCATE)
    assert client.get_cra_status(version.id).version.id == version.id


# -- downloads -------------------------------------------------------------------------------


def test_a_truncated_download_is_detected_and_leaves_no_partial_file(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    direct, _ = make_client(base=chaos_sandbox.url)
    big = sbom_file(tmp_path, "big")
    sbom = direct.ingest_sbom(version.id, big, auto_scan=False).sbom
    client, _ = make_client()
    dest = tmp_path / "out"
    dest.mkdir()
    proxy.force(Fault.TRUNCATE)
    with pytest.raises(TransportError) as caught:
        client.download_sbom(sbom.id, dest / "copy.json")
    assert isinstance(caught.value, NetworkError)
    assert list(dest.iterdir()) == []
    # The same download through a healthy path is complete and matches.
    done = client.download_sbom(sbom.id, dest / "copy.json")
    assert done.sha256 == sbom.sha256
    assert (dest / "copy.json").read_bytes() == big.read_bytes()


def test_a_truncated_technical_file_export_is_detected(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    direct, _ = make_client(base=chaos_sandbox.url)
    direct.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    client, _ = make_client()
    proxy.force(Fault.TRUNCATE)
    with pytest.raises(TransportError):
        client.export_technical_file(version.id, tmp_path / "tf.zip")
    assert not (tmp_path / "tf.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


# -- unsafe requests: uploads, creates, scan triggers --------------------------------------------


@pytest.mark.parametrize(
    "fault", [Fault.RATE_LIMITED, Fault.RATE_LIMITED_NO_HEADER, Fault.UNAVAILABLE]
)
def test_an_upload_is_repeated_only_when_the_server_cannot_have_acted(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path, fault: Fault
) -> None:
    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(fault)
    result = client.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    assert [r.fault for r in _lines(proxy, "/sboms/ingest")] == [fault, None]
    assert [s.id for s in _sboms_on(make_client, chaos_sandbox, version.id)] == [result.sbom.id]


@pytest.mark.parametrize("fault", [Fault.BAD_GATEWAY, Fault.GATEWAY_TIMEOUT, Fault.SERVER_ERROR])
def test_an_upload_is_not_repeated_after_an_ambiguous_gateway_error(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path, fault: Fault
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(fault)
    with pytest.raises(ServerError):
        client.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    assert len(_lines(proxy, "/sboms/ingest")) == 1
    assert _sboms_on(make_client, chaos_sandbox, version.id) == []


def test_an_upload_reset_before_forwarding_fails_typed_and_stores_nothing(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(Fault.RESET_BEFORE)
    with pytest.raises(NetworkError) as caught:
        client.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    assert is_transient(caught.value)
    assert len(_lines(proxy, "/sboms/ingest")) == 1
    assert _sboms_on(make_client, chaos_sandbox, version.id) == []


def test_an_upload_reset_after_forwarding_is_not_repeated_blindly(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(Fault.RESET_AFTER)
    path = sbom_file(tmp_path)
    with pytest.raises(NetworkError):
        client.ingest_sbom(version.id, path, auto_scan=False)
    assert len(_lines(proxy, "/sboms/ingest")) == 1
    stored = _sboms_on(make_client, chaos_sandbox, version.id)
    assert len(stored) == 1  # the server acted; the client never heard
    # Re-reading state tells the caller the upload is already there (same content hash).
    assert stored[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_upload_that_stalls_is_a_timeout_and_not_repeated(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client(read_timeout=0.3)
    proxy.force(Fault.STALL)
    with pytest.raises(ApiTimeoutError):
        client.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    assert len(_lines(proxy, "/sboms/ingest")) == 1


def test_a_create_reset_after_forwarding_then_find_or_create_finds_it(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    client, _ = make_client()
    slug = f"reset-{uuid.uuid4().hex[:10]}"
    proxy.force(Fault.RESET_AFTER)
    with pytest.raises(NetworkError):
        client.create_product("reset", slug=slug)
    again = client.find_or_create_product(slug, name="reset")
    assert again.slug == slug
    direct, _ = make_client(base=chaos_sandbox.url)
    assert [p.slug for p in direct.list_products(slug=slug)] == [slug]
    assert (
        len([r for r in proxy.records if r.request_line.startswith("POST /api/v1/products")]) == 1
    )


def test_a_scan_trigger_reset_after_forwarding_is_not_repeated(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client()
    proxy.force(Fault.RESET_AFTER)
    with pytest.raises(NetworkError):
        client.trigger_scan(version.id)
    assert len(_lines(proxy, "/scan")) == 1


def test_unsafe_requests_carry_an_idempotency_key(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any, tmp_path: Path
) -> None:
    # The proxy forwards headers unchanged; the sandbox's audit is not needed for this:
    # a 503 retry must reuse the same key so a server that honours it can deduplicate.
    seen: list[str] = []
    original = proxy_module.FaultProxy._apply

    def spy(self: Any, fault: Any, request: Any, client: Any, sock: Any) -> None:
        for name, value in request.headers:
            if name == b"idempotency-key":
                seen.append(value.decode())
        original(self, fault, request, client, sock)

    version = _version(make_client, chaos_sandbox)
    api, _ = make_client()
    proxy_module.FaultProxy._apply = spy  # type: ignore[method-assign]
    try:
        proxy.force(Fault.UNAVAILABLE)
        api.ingest_sbom(version.id, sbom_file(tmp_path), auto_scan=False)
    finally:
        proxy_module.FaultProxy._apply = original  # type: ignore[method-assign]
    assert len(seen) == 2
    assert seen[0] == seen[1]


# -- seeded random faults ------------------------------------------------------------------------


def test_seeded_random_faults_on_reads_end_in_success_or_a_typed_error(
    proxy: FaultProxy, make_client: MakeClient, chaos_sandbox: Any
) -> None:

    version = _version(make_client, chaos_sandbox)
    client, _ = make_client(max_attempts=5, read_timeout=0.3)
    kinds = tuple(k for k in Fault if k not in {Fault.BUDGET_EXHAUSTED, Fault.SERVER_ERROR})
    proxy.set_plan(FaultPlan(rate=0.3, kinds=kinds, seed=8, methods=frozenset({"GET"})))
    outcomes: list[str] = []
    for _ in range(25):
        try:
            client.get_cra_status(version.id)
            outcomes.append("ok")
        except CraEvidenceError as exc:
            outcomes.append(type(exc).__name__)
    assert proxy.faults(), "the plan injected no fault: the test proves nothing"
    assert outcomes.count("ok") >= 20, (outcomes, proxy.faults())
