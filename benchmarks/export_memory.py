"""Peak memory of archiving a large technical file (run by hand, not in CI).

    .venv/bin/python benchmarks/export_memory.py [--size-mib 1024]

A helper process serves a generated file over HTTP on loopback and another runs
moto's S3 server (both outside the measured process, so moto's in-memory
objects are not counted). This process downloads the file to a temporary file
in chunks (hashing while streaming), uploads it with the managed multipart
transfer, HEADs it back, writes the manifest and re-downloads every object to
verify it. It prints the peak resident memory above the baseline and the ratio
to the 64 MiB goal.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx

from config.evidence import EvidenceSettings
from craflow.evidence import open_archive, spool_chunks, verify_run

MIB = 1024 * 1024
GOAL_MIB = 64

FILE_SERVER = r"""
import os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SIZE = int(sys.argv[1])
BLOCK = os.urandom(1024 * 1024)
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        while left:
            piece = BLOCK[: min(left, len(BLOCK))]
            self.wfile.write(piece)
            left -= len(piece)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/export", flush=True)
server.serve_forever()
"""

S3_SERVER = r"""
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from craflow.sandbox.s3 import start_local_s3
with start_local_s3() as local:
    print(local.endpoint_url, flush=True)
    sys.stdin.read()
"""


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
    except OSError:
        return False
    return True


def _start(code: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _archive_once(
    url: str, endpoint: str, bucket: str, settings: EvidenceSettings, work: Path, name: str
) -> float:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    archive = open_archive(f"s3://{bucket}/bench", settings, s3_client=client)
    run = archive.start_run("widget", "1.0.0", run_id=name)
    started = time.perf_counter()
    spooled = work / f"{name}.zip"
    with httpx.stream("GET", url, timeout=60.0) as response:
        response.raise_for_status()
        size = int(response.headers["Content-Length"])
        part_size = archive.store.part_size_for(size)
        digest = spool_chunks(
            response.iter_bytes(settings.io_chunk_bytes), spooled, part_size=part_size
        )
    run.put_file("technical-file.zip", spooled, digest=digest, source_request_id="bench")
    spooled.unlink()
    run.finish()
    result = verify_run(run.uri, settings, s3_client=client)
    if not result.ok:
        raise SystemExit(f"verification failed: {result.mismatches}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * MIB
    settings = EvidenceSettings()
    file_server, url = _start(FILE_SERVER, str(size))
    warm_server, warm_url = _start(FILE_SERVER, str(1 * MIB))
    s3_server, endpoint = _start(S3_SERVER)
    try:
        boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket="craflow-bench")
        with tempfile.TemporaryDirectory(prefix="craflow-bench-") as folder:
            work = Path(folder)
            _archive_once(warm_url, endpoint, "craflow-bench", settings, work, "warm-up")
            exact = _reset_peak()
            baseline = _status_kib("VmRSS")
            maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            seconds = _archive_once(url, endpoint, "craflow-bench", settings, work, "measured")
            peak = (
                _status_kib("VmHWM")
                if exact
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            )
    finally:
        for proc in (file_server, warm_server, s3_server):
            proc.terminate()
            proc.wait(timeout=10)
    above_mib = (peak - baseline) / 1024
    print(f"file size            : {args.size_mib} MiB")
    part_mib = settings.multipart_chunk_bytes // MIB
    print(f"part size            : {part_mib} MiB x {settings.max_concurrency} threads")
    print(f"baseline RSS         : {baseline / 1024:.1f} MiB")
    how = "VmHWM after reset" if exact else "ru_maxrss"
    print(f"peak RSS             : {peak / 1024:.1f} MiB ({how})")
    if not exact:
        print(f"(peak before run     : {maxrss_before / 1024:.1f} MiB)")
    print(f"peak above baseline  : {above_mib:.1f} MiB")
    verdict = "met" if above_mib < GOAL_MIB else "NOT met"
    print(f"ratio to {GOAL_MIB} MiB goal : {above_mib / GOAL_MIB:.2f} ({verdict})")
    print(f"download+upload+verify: {seconds:.1f} s ({args.size_mib / seconds:.0f} MiB/s)")


if __name__ == "__main__":
    main()
