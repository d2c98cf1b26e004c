"""What the release steps share: the step signature, the context, one line of the story.

A release step is `Step`: it reads and fills the `ReleaseRun` and returns None to go
on, or a `ReleaseOutcome` to end the run there. Besides the run, the steps share a
`ReleaseContext` (settings read as the run starts, the work folder, the SBOM file).
"""

from collections.abc import Callable
from pathlib import Path

from prefect import get_run_logger

from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from config.vex import VexSettings
from craflow.release.outcome import ReleaseOutcome
from craflow.release.run import ReleaseRun
from craflow.vex.carry import CarryResult
from tasks.sbom import SbomFile


class ReleaseContext:
    """What the steps share besides the run: settings, the work folder, the SBOM file."""

    def __init__(self, settings: ReleaseSettings, work: Path) -> None:
        self.evidence = EvidenceSettings()
        self.settings = settings
        self.work = work
        self.sbom: SbomFile | None = None
        self.vex = VexSettings()
        self.carry: CarryResult | None = None


Step = Callable[[ReleaseRun, ReleaseContext], ReleaseOutcome | None]


def tell(line: str) -> None:
    """One line of the run's story, at INFO in the run's logs (the UI shows them)."""
    get_run_logger().info("%s", line)
