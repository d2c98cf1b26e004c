"""Small helpers that publish a run's artifacts to the Prefect UI.

Prefect accepts keys of lowercase letters, digits and dashes only;
`artifact_key` (from `craflow.release.run`, re-exported here) makes one from any text.
Keys stay stable (`release-<product>-<version>-…`, `1-0-0`); titles and descriptions
are for people (`1.0.0`). Archived evidence is shown as ONE markdown table per archive run
(`publish_evidence`) with HTTPS links, never as `s3://` link artifacts a browser cannot open.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from config.evidence import EvidenceSettings
from craflow.release.links import console_url, split_s3
from craflow.release.report import EvidenceLink, evidence_markdown
from craflow.release.run import artifact_key

if TYPE_CHECKING:
    from tasks.export import ArchivedObject, ArchivedRun


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A markdown artifact under *key* (needs a flow or task run)."""
    create_markdown_artifact(markdown, key=key, description=description)


def publish_table(key: str, rows: Sequence[dict[str, object]], description: str) -> None:
    """A table artifact under *key*; an empty table is still published, so the key exists."""
    create_table_artifact([dict(row) for row in rows], key=key, description=description)


def _presigned(uri: str, seconds: int) -> str | None:
    parts = split_s3(uri)
    if parts is None:
        return None
    import boto3

    bucket, key = parts
    url = (
        boto3.session.Session()
        .client("s3")
        .generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds
        )
    )
    return str(url)


def evidence_links(
    objects: Sequence["ArchivedObject"], settings: EvidenceSettings
) -> list[EvidenceLink]:
    """The archived objects with the HTTPS link `settings.link` asks for (None: text only)."""

    def https(uri: str) -> str | None:
        if settings.link == "console":
            return console_url(uri, settings.console_url_template)
        if settings.link == "presigned":
            return _presigned(uri, settings.presign_seconds)
        return None

    return [
        EvidenceLink(name=o.name, uri=o.uri, size=o.size, sha256=o.sha256, https=https(o.uri))
        for o in objects
    ]


def publish_evidence(
    key: str, title: str, archived: "ArchivedRun", settings: EvidenceSettings
) -> None:
    """The evidence table of one archive run under *key*: each object with the HTTPS link
    `settings.link` asks for, its `s3://` URI as text (release and export publish this)."""
    publish_markdown(
        key,
        evidence_markdown(title, archived.run_uri, evidence_links(archived.objects, settings)),
        f"{title}: {len(archived.objects)} archived objects",
    )


__all__ = [
    "artifact_key",
    "evidence_links",
    "publish_evidence",
    "publish_markdown",
    "publish_table",
]
