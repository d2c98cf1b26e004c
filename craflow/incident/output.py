"""Write a case's drafts to a folder: per stage JSON + markdown, and the CSAF advisory.

Everything is built and validated in memory first; each file then lands by an
atomic rename, so a failure leaves no half-written file behind.
"""

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from craflow.incident.csaf import Publisher, build_advisory
from craflow.incident.drafts import build_draft
from craflow.incident.model import STAGE_ORDER, Case


def render_drafts(case: Case, publisher: Publisher, now: datetime) -> dict[str, str]:
    """File name → text of every draft of `case` (CSAF validated)."""
    files: dict[str, str] = {}
    for stage in STAGE_ORDER:
        draft = build_draft(case, stage)
        base = f"{case.case_id}.{stage.value}"
        files[f"{base}.json"] = json.dumps(draft.to_json(), indent=2) + "\n"
        files[f"{base}.md"] = draft.to_markdown()
    advisory = build_advisory(case, publisher, now)
    files[f"{case.case_id}.csaf.json"] = json.dumps(advisory, indent=2) + "\n"
    return files


def write_drafts(case: Case, folder: Path, publisher: Publisher, now: datetime) -> list[Path]:
    """Write every draft of `case` into `folder`; return the paths written."""
    files = render_drafts(case, publisher, now)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".craflow-draft-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        written.append(target)
    return written
