"""Load on the sandbox: N concurrent clients of mixed reads, uploads and scans (loopback only).

    .venv/bin/python benchmarks/sandbox_load.py                    # 50 clients, 60 s
    .venv/bin/python benchmarks/sandbox_load.py --clients 10 --seconds 5

Starts `craflow sandbox` in its own process on a free loopback port (so the load
generator does not share the server's interpreter), with rate limits lifted far
above what the run can reach so the limiter is not what is measured, then runs
the clients for a bounded time and a bounded number of requests each. Every
acknowledged upload (201) must be listed on its version afterwards. Prints
requests/s, p50/p99 latency, the status histogram, 5xx and lost writes; exits 1
if there was any 5xx, transport error or lost write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READ_SHARE = 0.55
UPLOAD_SHARE = 0.30  # the rest are scan triggers
VERSIONS = 5


@dataclass
class LoadReport:
    clients: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)  # version id -> sbom ids
    lost: list[tuple[str, str]] = field(default_factory=list)  # (version id, sbom id)
    error_samples: dict[int, str] = field(default_factory=dict)  # status -> first body seen

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport_errors.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def ok(self) -> bool:
        return not self.server_errors and not self.transport_errors and not self.lost

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> str:
        uploads = sum(len(ids) for ids in self.acknowledged.values())
        lines = [
            f"clients {self.clients}, {self.seconds:.1f} s, {self.requests} requests, "
            f"{self.requests / self.seconds:.1f} requests/s",
            f"latency p50 {self.percentile(0.50) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(self.latencies) * 1000 if self.latencies else 0:.1f} ms",
            f"statuses {dict(sorted(self.statuses.items()))}",
            f"transport errors {dict(self.transport_errors)}",
            *(f"  first {status}: {body}" for status, body in sorted(self.error_samples.items())),
            f"5xx {self.server_errors}; acknowledged uploads {uploads}; "
            f"lost writes {len(self.lost)}",
        ]
        return "\n".join(lines)


def sbom_bytes(tag: str) -> bytes:
    """A small, valid, unique CycloneDX JSON document."""
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": f"load-{tag}", "version": "1"}},
        "components": [
            {
                "type": "library",
                "name": "requests",
                "version": "2.19.0",
                "purl": "pkg:pypi/requests@2.19.0",
                "bom-ref": f"requests-{tag}",
            },
            {
                "type": "library",
                "name": "urllib3",
                "version": "1.23",
                "purl": "pkg:pypi/urllib3@1.23",
                "bom-ref": f"urllib3-{tag}",
            },
        ],
    }
    return json.dumps(doc).encode()


async def _setup(api_url: str, api_key: str, run: str) -> list[str]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as client:
        product = await client.post(
            "/products", json={"name": f"load {run}", "slug": f"load-{run}", "category": "default"}
        )
        product.raise_for_status()
        versions = []
        for i in range(VERSIONS):
            created = await client.post(
                "/versions",
                json={"product_id": product.json()["id"], "version_number": f"1.0.{i}"},
            )
            created.raise_for_status()
            versions.append(created.json()["id"])
        return versions


async def _client_loop(
    index: int,
    api_url: str,
    api_key: str,
    versions: list[str],
    deadline: float,
    max_requests: int,
    report: LoadReport,
) -> None:
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as client:
        for n in range(max_requests):
            if time.monotonic() >= deadline:
                return
            version = rng.choice(versions)
            pick = rng.random()
            started = time.perf_counter()
            try:
                if pick < READ_SHARE:
                    path = rng.choice(
                        [
                            "/products?per_page=10",
                            f"/versions/{version}/cra-status",
                            f"/versions/{version}/sboms?per_page=5",
                        ]
                    )
                    response = await client.get(path)
                elif pick < READ_SHARE + UPLOAD_SHARE:
                    name = f"c{index}-{n}.json"
                    response = await client.post(
                        "/sboms/ingest",
                        files={"file": (name, sbom_bytes(f"{index}-{n}"), "application/json")},
                        data={"version_id": version, "auto_scan": "false"},
                    )
                    if response.status_code == 201:
                        report.acknowledged.setdefault(version, set()).add(response.json()["id"])
                else:
                    response = await client.post(f"/versions/{version}/scan")
            except httpx.TransportError as exc:
                report.transport_errors[type(exc).__name__] += 1
                continue
            report.latencies.append(time.perf_counter() - started)
            report.statuses[response.status_code] += 1
            if response.status_code >= 400:
                report.error_samples.setdefault(response.status_code, response.text[:300])


async def _listed(client: httpx.AsyncClient, version: str) -> set[str]:
    ids: set[str] = set()
    page = 1
    while page < 10_000:
        response = await client.get(
            f"/versions/{version}/sboms", params={"page": page, "per_page": 100}
        )
        response.raise_for_status()
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        ids.update(item["id"] for item in items)
        if not (isinstance(body, dict) and body.get("has_next")):
            return ids
        page += 1
    return ids


async def run_load(
    api_url: str,
    api_key: str,
    *,
    clients: int,
    seconds: float,
    max_requests_per_client: int = 100_000,
) -> LoadReport:
    """Run `clients` concurrent clients for at most `seconds`; then check every upload is listed."""
    run = uuid.uuid4().hex[:8]
    versions = await _setup(api_url, api_key, run)
    report = LoadReport(clients=clients, seconds=seconds)
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client_loop(i, api_url, api_key, versions, deadline, max_requests_per_client, report)
            for i in range(clients)
        )
    )
    report.seconds = time.monotonic() - started
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as client:
        for version, acknowledged in report.acknowledged.items():
            listed = await _listed(client, version)
            report.lost += [(version, sbom) for sbom in sorted(acknowledged - listed)]
    return report


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sandbox_process(data_dir: Path, startup_seconds: float = 60.0) -> Iterator[tuple[str, str]]:
    """`craflow sandbox` in a child process with lifted limits; yields (api_url, api_key)."""
    port = _free_port()
    api_key = "cra_load" + uuid.uuid4().hex
    env = dict(os.environ)
    env.update(
        {
            "CRAFLOW_SANDBOX_READ_LIMIT_PER_MINUTE": "1000000",
            "CRAFLOW_SANDBOX_WRITE_LIMIT_PER_MINUTE": "1000000",
            "CRAFLOW_SANDBOX_UPLOAD_LIMIT_PER_HOUR": "1000000",
            "CRAFLOW_SANDBOX_SCAN_SECONDS": "0.5",
        }
    )
    command = [
        sys.executable, "-m", "craflow.cli", "sandbox", "--host", "127.0.0.1",
        "--port", str(port), "--data-dir", str(data_dir), "--api-key", api_key,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _, err = process.communicate()
                raise RuntimeError(f"sandbox exited early: {err.decode()[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("sandbox did not answer /health in time")
        yield url + "/api/v1", api_key
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (1-200)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration (1-600)")
    parser.add_argument("--max-requests", type=int, default=20_000, help="cap per client")
    parser.add_argument("--api-url", help="an already running loopback sandbox (with --api-key)")
    parser.add_argument("--api-key", help="its API key")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600:
        parser.error("--clients must be 1..200 and --seconds 1..600")
    if args.api_url:
        host = httpx.URL(args.api_url).host
        if not re.fullmatch(r"127\.\d+\.\d+\.\d+|localhost|::1", host):
            parser.error("the load generator only targets loopback addresses")
        report = asyncio.run(
            run_load(args.api_url, args.api_key, clients=args.clients, seconds=args.seconds,
                     max_requests_per_client=args.max_requests)
        )  # fmt: skip
    else:
        with tempfile.TemporaryDirectory() as tmp, sandbox_process(Path(tmp)) as (url, key):
            report = asyncio.run(
                run_load(url, key, clients=args.clients, seconds=args.seconds,
                         max_requests_per_client=args.max_requests)
            )  # fmt: skip
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
