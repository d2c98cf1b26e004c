"""How much time the release flow adds over the bare client making the same calls.

Starts the sandbox on a loopback port and runs, for fresh product versions, (a)
the API calls of a release with `CraEvidenceClient` and the same poll schedule,
archiving to a local folder, and (b) `release_flow` on Prefect's ephemeral
server (warmed up by one run first). Prints the median of each and the
difference; the goal is an overhead under 3 s. Run by hand, not in CI:

    .venv/bin/python benchmarks/release_overhead.py [--runs 3]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="craflow-bench-prefect-")
os.environ["PREFECT_HOME"] = _HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr  # noqa: E402

from config.api import ApiSettings  # noqa: E402
from config.release import ReleaseSettings  # noqa: E402
from craflow.api import CraEvidenceClient  # noqa: E402
from craflow.evidence import open_archive  # noqa: E402
from craflow.release.polling import PollSchedule, poll_until  # noqa: E402
from craflow.release.states import transition_path  # noqa: E402
from craflow.sandbox.runner import start_sandbox  # noqa: E402
from tests.integration.release.helpers import write_bom as write_cyclonedx  # noqa: E402

#: the components every benchmark SBOM lists (all without known advisories)
COMPONENTS = {"idna": "3.10", "certifi": "2025.8.3", "requests": "2.32.4"}


def write_bom(path: Path, name: str, version: str) -> Path:
    return write_cyclonedx(path, name, version, COMPONENTS)


def bare_release(
    client: CraEvidenceClient,
    product: str,
    version: str,
    sbom: Path,
    archive_root: str,
    work: Path,
    schedule: PollSchedule,
) -> float:
    start = time.perf_counter()
    prod = client.find_or_create_product(product)
    ver = client.find_or_create_version(prod.id, version)
    list(client.list_versions(prod.id))
    sha = None
    for existing in client.list_sboms(ver.id):
        sha = existing.sha256
    result = client.ingest_sbom(ver.id, sbom)
    assert sha is None
    polled = poll_until(
        lambda: client.get_cra_status(ver.id),
        lambda s: s.scan_state in {"completed", "failed"},
        schedule,
        clock=time.monotonic,
        sleep=time.sleep,
    )
    assert polled.done
    list(client.list_vulnerabilities(version_id=ver.id, per_page=100))
    current = client.find_version(prod.id, version)
    for step in transition_path(
        (current.release_state if current else None) or "draft", "released"
    ):
        client.set_release_state(ver.id, step)
    tech = client.export_technical_file(ver.id, work / f"{version}-tf.zip")
    report = client.compliance_report(result.sbom.id, work / f"{version}-cr.pdf")
    archive = open_archive(archive_root)
    archive.list_runs(product, version)
    run = archive.start_run(product, version, run_id=f"bare-{version}")
    run.put_file("sbom.cdx.json", sbom)
    assert tech.path is not None and report.path is not None
    run.put_file("technical-file.zip", tech.path)
    run.put_file("compliance-report.pdf", report.path)
    run.put_json("cra-status.json", polled.value.model_dump(mode="json"))
    run.finish()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = ReleaseSettings()
    schedule = PollSchedule(
        settings.poll_initial_seconds,
        settings.poll_cap_seconds,
        settings.poll_multiplier,
        settings.poll_jitter,
        settings.poll_deadline_seconds,
    )
    with tempfile.TemporaryDirectory() as tmp, start_sandbox(scan_seconds=0.5) as sandbox:
        work = Path(tmp)
        archive_root = (work / "archive").as_uri()
        os.environ["CRA_EVIDENCE_URL"] = sandbox.url
        os.environ["CRA_EVIDENCE_API_KEY"] = sandbox.api_key
        api = ApiSettings(url=sandbox.url, api_key=SecretStr(sandbox.api_key))

        t0 = time.perf_counter()
        from flows.release import run_release  # timed: importing Prefect is a cost

        import_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = run_release(
            product="warmup",
            version="0.1",
            sbom=str(write_bom(work / "warm.json", "warmup", "0.1")),
            export=archive_root,
        )
        first_seconds = time.perf_counter() - t0
        assert not isinstance(warm, BaseException), warm

        bare_times: list[float] = []
        flow_times: list[float] = []
        with CraEvidenceClient(api) as client:
            for i in range(args.runs):
                version = f"1.{i}"
                bom = write_bom(work / f"bare-{i}.json", "bench-bare", version)
                bare_times.append(
                    bare_release(client, "bench-bare", version, bom, archive_root, work, schedule)
                )
                bom = write_bom(work / f"flow-{i}.json", "bench-flow", version)
                t0 = time.perf_counter()
                outcome = run_release(
                    product="bench-flow", version=version, sbom=str(bom), export=archive_root
                )
                flow_times.append(time.perf_counter() - t0)
                assert not isinstance(outcome, BaseException) and outcome.verdict == "passed"

    bare, flowed = statistics.median(bare_times), statistics.median(flow_times)
    print(f"import flows.release (Prefect):   {import_seconds:6.2f} s")
    print(f"first flow run (ephemeral server): {first_seconds:6.2f} s")
    print(f"bare client, median of {args.runs}:       {bare:6.2f} s  {bare_times}")
    print(f"release flow, median of {args.runs}:      {flowed:6.2f} s  {flow_times}")
    print(f"overhead: {flowed - bare:.2f} s (goal < 3 s); ratio {flowed / bare:.2f}x")


if __name__ == "__main__":
    main()
