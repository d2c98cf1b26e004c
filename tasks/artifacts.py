"""Small helpers that publish a run's artifacts to the Prefect UI.

Prefect accepts keys of lowercase letters, digits and dashes only;
`artifact_key` (from `craflow.release.run`, re-exported here) makes one from any text.
"""

from collections.abc import Sequence

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from craflow.release.run import artifact_key


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A markdown artifact under *key* (needs a flow or task run)."""
    create_markdown_artifact(markdown, key=key, description=description)


def publish_table(key: str, rows: Sequence[dict[str, object]], description: str) -> None:
    """A table artifact under *key*; an empty table is still published, so the key exists."""
    create_table_artifact([dict(row) for row in rows], key=key, description=description)


def publish_link(key: str, link: str, text: str, description: str) -> None:
    """A link artifact under *key*."""
    create_link_artifact(link, link_text=text, key=key, description=description)


__all__ = ["artifact_key", "publish_link", "publish_markdown", "publish_table"]
