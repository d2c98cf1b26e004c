"""The demo's isolated surroundings: sandbox, loopback S3, bucket and process environment.

Nothing here imports Prefect: the environment must be in place *before* Prefect is
imported, so the demo can never reach the user's own Prefect server or CRA Evidence
organisation.
"""

import os
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from config.deploy import DemoSettings
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env, start_local_s3

#: the demo's sandbox runs every rate-limit window 60x shorter ("per hour" is "per minute"),
#: and the client paces to match: otherwise the four uploads of the story (an SBOM and a
#: VEX per release, 50 uploads per hour) would be spaced 72 s apart
RATE_SCALE = 60.0

# Variables that could point the demo at something real; removed before it runs.
FOREIGN_VARIABLES = (
    "PREFECT_API_URL",
    "PREFECT_API_KEY",
    "PREFECT_PROFILES_PATH",
    "CRA_EVIDENCE_URL",
    "CRA_EVIDENCE_API_KEY",
    "CRA_EVIDENCE_EMAIL",
    "CRA_EVIDENCE_PASSWORD",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "CRAFLOW_EVIDENCE_DESTINATION",
)


@dataclass(frozen=True)
class DemoSurroundings:
    """What the demo started, and where its files go."""

    sandbox: RunningSandbox
    s3: LocalS3
    bucket: str
    workdir: Path

    @property
    def archive_root(self) -> str:
        return f"s3://{self.bucket}/evidence"


def demo_environment(
    surroundings: DemoSurroundings,
    settings: DemoSettings,
    *,
    prefect_home: Path,
    prefect_api_url: str | None,
) -> dict[str, str]:
    """The variables the demo sets: Prefect, the client, S3 and fast polling."""
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_PROFILES_PATH": str(prefect_home / "profiles.toml"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(
            settings.ephemeral_startup_timeout_seconds
        ),
        "CRA_EVIDENCE_URL": surroundings.sandbox.url,
        "CRA_EVIDENCE_API_KEY": surroundings.sandbox.api_key,
        "CRAFLOW_EVIDENCE_DESTINATION": surroundings.archive_root,
        "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": str(settings.poll_initial_seconds),
        "CRAFLOW_RELEASE_POLL_CAP_SECONDS": str(settings.poll_cap_seconds),
        "CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS": str(settings.poll_initial_seconds),
        "CRAFLOW_RATE_WINDOW_SCALE": str(RATE_SCALE),
        **boto3_session_env(surroundings.s3),
    }
    if prefect_api_url:
        env["PREFECT_API_URL"] = prefect_api_url
    return env


def apply_environment(target: MutableMapping[str, str], env: Mapping[str, str]) -> None:
    """Remove every variable that could reach something real, then set *env*."""
    for name in FOREIGN_VARIABLES:
        target.pop(name, None)
    target.update(env)


def create_bucket(s3: LocalS3, bucket: str) -> None:
    """Create the demo's bucket on the loopback endpoint."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
    )
    client.create_bucket(Bucket=bucket)


@dataclass(frozen=True)
class ArchiveCopy:
    """What `download_archive` copied: how many objects, and how many under each place.

    A place is a run folder's parent (`demo-webshop/1.0.0`, `sweeps`): each release run
    and each sweep writes its own timestamped folder there.
    """

    objects: int
    places: tuple[tuple[str, int], ...]


def download_archive(surroundings: DemoSurroundings, into: Path) -> ArchiveCopy:
    """Copy the archive (every object under the bucket's `evidence/` prefix) under *into*.

    Keys keep their path below the prefix (`<into>/<product>/<version>/<run>/...`); the
    endpoint vanishes when the demo ends, so this copy is what the user can open later.
    """
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=surroundings.s3.endpoint_url,
        region_name=surroundings.s3.region,
        aws_access_key_id=surroundings.s3.access_key,
        aws_secret_access_key=surroundings.s3.secret_key,
    )
    prefix = surroundings.archive_root.removeprefix(f"s3://{surroundings.bucket}/").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    per_place: Counter[str] = Counter()
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=surroundings.bucket, Prefix=prefix
    )
    for page in pages:
        for item in page.get("Contents", []):
            relative = item.get("Key", "").removeprefix(prefix)
            target = into / relative
            if not relative or not target.resolve().is_relative_to(into.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(surroundings.bucket, prefix + relative, str(target))
            per_place[relative.rpartition("/")[0].rpartition("/")[0] or "."] += 1
    return ArchiveCopy(objects=per_place.total(), places=tuple(sorted(per_place.items())))


@contextmanager
def demo_surroundings(settings: DemoSettings, workdir: Path) -> Iterator[DemoSurroundings]:
    """Start the sandbox and the loopback S3 endpoint (with the bucket); stop both afterwards."""
    with (
        start_sandbox(
            host="127.0.0.1",
            data_dir=workdir / "sandbox",
            scan_seconds=settings.scan_seconds,
            rate_scale=RATE_SCALE,
        ) as sandbox,
        start_local_s3(host="127.0.0.1") as s3,
    ):
        create_bucket(s3, settings.bucket)
        yield DemoSurroundings(sandbox=sandbox, s3=s3, bucket=settings.bucket, workdir=workdir)


def process_environment() -> MutableMapping[str, str]:
    """This process's environment (a seam for tests)."""
    return os.environ
