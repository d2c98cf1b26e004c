"""The release chaos suite: N releases of distinct versions through the fault proxy.

    .venv/bin/python -m tests.chaos.run_suite --runs 50 --rate 0.2 --seed 1   # by hand

Every run either completes or fails with a clear, typed error (a `ReleaseOutcome`
with an exit code, never a crash). Then every version that failed is released again
without faults (the re-run a CI system would do), and the suite checks what must hold
whatever the network did: each version has exactly one SBOM on the server, no version
was promoted twice (sandbox audit), and every archived object's SHA-256 matches its
manifest. Loopback only; bounded by the number of runs and the proxy's own limits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.proxy import ALL_FAULTS, Fault, FaultPlan, ProxyRecord, fault_proxy

# Short client timeouts and waits so faults cost little time; env names from config/.
FAST_ENV = {
    "CRAFLOW_READ_TIMEOUT": "2",
    "CRAFLOW_CONNECT_TIMEOUT": "2",
    "CRAFLOW_RETRY_MAX_ATTEMPTS": "4",
    "CRAFLOW_RETRY_BACKOFF_BASE_SECONDS": "0.05",
    "CRAFLOW_RETRY_BACKOFF_CAP_SECONDS": "0.2",
    "CRAFLOW_RETRY_RATE_LIMIT_WAIT_CAP_SECONDS": "0.2",
    "CRAFLOW_RATE_WINDOW_SCALE": "3600",
    "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": "0.1",
    "CRAFLOW_RELEASE_POLL_CAP_SECONDS": "0.3",
    "CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS": "30",
}
STALL_SECONDS = 3.0


@dataclass
class SuiteReport:
    runs: int
    completed: int = 0
    failed_typed: int = 0
    crashed: list[str] = field(default_factory=list)
    exit_codes: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    sbom_counts: dict[str, int] = field(default_factory=dict)
    promotions: dict[str, int] = field(default_factory=dict)
    checksum_mismatches: list[str] = field(default_factory=list)
    verified_objects: int = 0
    unreleased: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> dict[str, int]:
        sboms = {v: n for v, n in self.sbom_counts.items() if n != 1}
        promoted = {f"{v} (promoted)": n for v, n in self.promotions.items() if n > 1}
        return {**sboms, **promoted}

    @property
    def ok(self) -> bool:
        return (
            not self.crashed
            and not self.duplicates
            and not self.checksum_mismatches
            and not self.unreleased
        )

    def summary(self) -> str:
        return "\n".join(
            [
                f"runs {self.runs}: completed {self.completed}, failed (typed) "
                f"{self.failed_typed}, crashed {len(self.crashed)}",
                f"exit codes {dict(sorted(self.exit_codes.items()))}",
                f"faults injected {dict(sorted(self.faults.items()))}",
                f"re-run without faults: {self.recovered} recovered, unreleased {self.unreleased}",
                f"duplicates {self.duplicates}",
                f"checksum mismatches {len(self.checksum_mismatches)} "
                f"(verified {self.verified_objects} objects)",
            ]
        )


def _bom(folder: Path, version: str) -> Path:
    path = folder / f"sbom-{version}.json"
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "serialNumber": f"urn:uuid:{uuid.uuid4()}",
                "version": 1,
                "metadata": {
                    "component": {"type": "application", "name": "chaos", "version": version}
                },
                "components": [
                    {
                        "type": "library",
                        "name": "urllib3",
                        "version": "2.2.2",
                        "purl": "pkg:pypi/urllib3@2.2.2",
                    }
                ],
            }
        )
    )
    return path


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release(product: str, version: str, sbom: Path, export: str) -> Any:
    from flows.release import run_release

    return run_release(
        product=product,
        version=version,
        sbom=str(sbom),
        fail_on="none",
        promote="released",
        export=export,
    )


def run_chaos_suite(
    sandbox: Any,
    s3_env: dict[str, str],
    export_root: str,
    *,
    runs: int,
    rate: float,
    seed: int,
    workdir: Path,
    s3_client: Any = None,
) -> SuiteReport:
    """Release `runs` versions through a fault proxy, re-run failures cleanly, check invariants."""
    from craflow.evidence import verify_run
    from craflow.release.outcome import ReleaseOutcome

    product = f"chaos-{uuid.uuid4().hex[:8]}"
    versions = [f"1.0.{i}" for i in range(runs)]
    report = SuiteReport(runs=runs)
    kinds = tuple(k for k in ALL_FAULTS if k is not Fault.BUDGET_EXHAUSTED)
    plan = FaultPlan(rate=rate, kinds=kinds, seed=seed)
    outcomes: dict[str, Any] = {}
    base_env = {**FAST_ENV, **s3_env, "CRA_EVIDENCE_API_KEY": sandbox.api_key}
    records: list[ProxyRecord] = []
    with fault_proxy(sandbox.url, plan, stall_seconds=STALL_SECONDS) as proxy:
        with _env({**base_env, "CRA_EVIDENCE_URL": proxy.url}):
            for version in versions:
                result = _release(product, version, _bom(workdir, version), export_root)
                outcomes[version] = result
        records = proxy.records
    report.faults.update(str(r.fault) for r in records if r.fault is not None)
    failed: list[str] = []
    for version, result in outcomes.items():
        if not isinstance(result, ReleaseOutcome):
            report.crashed.append(f"{version}: {type(result).__name__}: {result}")
            failed.append(version)
            continue
        report.exit_codes[result.exit_code] += 1
        if result.exit_code == 0:
            report.completed += 1
        elif result.error or result.reasons:
            report.failed_typed += 1
            failed.append(version)
        else:
            report.crashed.append(f"{version}: failed without a reason")
            failed.append(version)
    with _env({**base_env, "CRA_EVIDENCE_URL": sandbox.url}):
        for version in failed:
            again = _release(product, version, workdir / f"sbom-{version}.json", export_root)
            outcomes[version] = again
            if isinstance(again, ReleaseOutcome) and again.exit_code == 0:
                report.recovered += 1
            else:
                report.unreleased.append(version)
    _check_server(sandbox, product, versions, report)
    with _env(s3_env):
        for version, result in outcomes.items():
            if isinstance(result, ReleaseOutcome) and result.archive_uri:
                verification = verify_run(result.archive_uri, s3_client=s3_client)
                report.verified_objects += verification.checked
                if not verification.ok:
                    report.checksum_mismatches.append(f"{version}: {verification}")
    return report


def _items(body: Any) -> list[dict[str, Any]]:
    """Both shapes the contract allows: an envelope or a plain list."""
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def _check_server(sandbox: Any, product: str, versions: list[str], report: SuiteReport) -> None:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    with httpx.Client(base_url=sandbox.url, headers=headers, timeout=30) as http:
        found = _items(http.get("/api/v1/products", params={"slug": product}).json())
        product_id = found[0]["id"]
        listed = http.get(f"/api/v1/products/{product_id}/versions", params={"per_page": 100})
        by_number = {v["version_number"]: v for v in _items(listed.json())}
        for number in versions:
            version = by_number.get(number)
            if version is None:
                report.sbom_counts[number] = 0
                continue
            sboms = http.get(f"/api/v1/versions/{version['id']}/sboms", params={"per_page": 100})
            report.sbom_counts[number] = sboms.json()["total"]
        audit = http.get("/_sandbox/audit", params={"product": product}).json()
    numbers = {v["id"]: n for n, v in by_number.items()}
    for event in audit:
        details = event["details"]
        if (
            event["event"] == "release_state.changed"
            and details.get("to") == "released"
            and not details.get("noop")
        ):
            number = numbers.get(event["version_id"], event["version_id"])
            report.promotions[number] = report.promotions.get(number, 0) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="release chaos suite (loopback only)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 200:
        parser.error("--runs must be 1..200")

    import boto3
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from craflow.sandbox.runner import start_sandbox
    from craflow.sandbox.s3 import boto3_session_env, start_local_s3

    with (
        tempfile.TemporaryDirectory() as tmp,
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
        start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=Path(tmp) / "sb") as sb,
        start_local_s3() as s3,
    ):
        s3_env = boto3_session_env(s3)
        client = boto3.session.Session().client(
            "s3", endpoint_url=s3.endpoint_url, region_name=s3.region,
            aws_access_key_id=s3.access_key, aws_secret_access_key=s3.secret_key,
        )  # fmt: skip
        bucket = f"craflow-chaos-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        report = run_chaos_suite(
            sb, s3_env, f"s3://{bucket}/chaos", runs=args.runs, rate=args.rate,
            seed=args.seed, workdir=Path(tmp), s3_client=client,
        )  # fmt: skip
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
