"""Run an external SBOM generator (syft, cdxgen, trivy, cyclonedx-py) and keep its output.

The command runs without a shell. `{out}` in the command is replaced by a temporary file
path the generator writes to; without it, the generator's standard output is the SBOM.
"""

import shlex
import subprocess
from pathlib import Path

from craflow.sbom.errors import SbomSourceError


def run_generator(command: str, out: Path, *, timeout: float) -> Path:
    """Run `command`, leaving the SBOM it produced at `out`; raise `SbomSourceError` on failure."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SbomSourceError(f"cannot parse the command: {exc}") from exc
    if not argv:
        raise SbomSourceError("the generator command is empty")
    uses_file = any("{out}" in a for a in argv)
    argv = [a.replace("{out}", str(out)) for a in argv]
    try:
        with out.open("wb") as sink:
            done = subprocess.run(  # noqa: S603 - the user's own generator, no shell
                argv,
                stdout=subprocess.DEVNULL if uses_file else sink,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
    except subprocess.TimeoutExpired as exc:
        raise SbomSourceError(f"{argv[0]}: took over {timeout:g} s") from exc
    except OSError as exc:
        raise SbomSourceError(f"{argv[0]}: cannot run ({exc.strerror})") from exc
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SbomSourceError(
            f"{argv[0]}: exited with {done.returncode}: {text[-1] if text else 'no output'}"
        )
    if not out.exists() or out.stat().st_size == 0:
        raise SbomSourceError(f"{argv[0]}: produced no SBOM")
    return out
