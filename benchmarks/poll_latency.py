"""How soon craflow notices a finished scan, and what polling costs: latency and polls/s.

For each scan duration (default 2, 8, 40, 120 s) it starts a sandbox whose scans take
that long (`--scan-seconds`), uploads a small SBOM, triggers a scan and waits for it with
the project's one poll primitive (`craflow.api.polling.ScanPoller`), `--runs` times. The
first run has no history (the immediate read, then the steady pace); later runs use the
durations learned by the earlier ones (kept in a temporary state directory), their scope
known up front from the ingest answer's component count (no immediate read). It prints
per duration and run:

    latency = when craflow knew - when the scan finished (at most trigger sent + duration,
              so this is an upper bound),
    polls/s = CRA-status reads / seconds waited  (budget: 0.5/s = 10 % of 300 reads/min).

Goal: median latency <= 1 s and polls/s <= 0.5. Run by hand, not in CI:

    .venv/bin/python benchmarks/poll_latency.py [--durations 2,8,40,120] [--runs 3]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.api import ApiSettings
from craflow.api import CraEvidenceClient
from craflow.api.polling import PollSchedule, ScanHistory, ScanPoller
from craflow.sandbox.runner import start_sandbox

API_KEY = "cra_benchmark_poll_latency_000000000000000"


def _bom(path: Path, tag: str) -> Path:
    path.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": ['
        f'{{"type": "library", "name": "lib-{tag}", "version": "1.0.0",'
        f' "purl": "pkg:pypi/lib-{tag}@1.0.0"}}]}}',
        encoding="utf-8",
    )
    return path


def measure(duration: float, runs: int, state: Path) -> list[tuple[float, float, int]]:
    """[(latency, polls per second, polls)] for *runs* scans of *duration* seconds."""
    work = Path(tempfile.mkdtemp(prefix="craflow-bench-poll-"))
    out = []
    with start_sandbox(
        data_dir=work / "data", api_key=API_KEY, scan_seconds=duration, rate_scale=60.0
    ) as sandbox:
        settings = ApiSettings(url=sandbox.url, api_key=API_KEY)
        with CraEvidenceClient(settings) as client:
            poller = ScanPoller(ScanHistory(state), settings.api_base, 2.0)
            product = client.find_or_create_product("poll-bench", name="poll-bench")
            for run in range(runs):
                version = client.create_version(product.id, f"1.{run}.0")
                ingested = client.ingest_sbom(
                    version.id, _bom(work / f"{run}.json", str(run)), auto_scan=False
                )
                time.sleep(1.5)  # the write bucket is free: the trigger is sent at once
                started = time.monotonic()  # the scan ends at most `duration` after this
                client.trigger_scan(version.id)
                result = poller.wait(
                    lambda v=version.id: client.get_cra_status(v),
                    PollSchedule(initial=0.5, cap=2.0, deadline=duration * 3 + 60),
                    clock=time.monotonic,
                    sleep=time.sleep,
                    version_id=version.id,
                    component_count=ingested.sbom.component_count,
                )
                waited = time.monotonic() - started
                latency = waited - duration
                out.append((latency, result.polls / waited, result.polls))
                print(
                    f"  {duration:>5g} s run {run + 1}: latency {latency:5.2f} s, "
                    f"{result.polls} polls, {result.polls / waited:.2f} polls/s",
                    flush=True,
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="2,8,40,120")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="craflow-bench-state-"))
    rows = []
    for text in args.durations.split(","):
        duration = float(text)
        results = measure(duration, args.runs, state)
        learned = results[1:] or results
        rows.append((duration, results[0], learned))
    print()
    head = ("scan s", "first: latency", "polls/s", "learned: median latency", "polls/s")
    print(f"{head[0]:>6} {head[1]:>15} {head[2]:>8} {head[3]:>24} {head[4]:>8}")
    for duration, first, learned in rows:
        print(
            f"{duration:>6g} {first[0]:>15.2f} {first[1]:>8.2f} "
            f"{statistics.median(r[0] for r in learned):>24.2f} "
            f"{statistics.mean(r[1] for r in learned):>8.2f}"
        )


if __name__ == "__main__":
    main()
