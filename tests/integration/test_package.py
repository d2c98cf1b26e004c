"""The package installs from its own build: `python -m build` → wheel + sdist → `craflow --help`.

The wheel goes into a fresh venv with `--no-deps`; a .pth file lends it this environment's
installed dependencies so the test needs no network (CI's `.ci/run` also installs the wheel
with its dependencies from the registry). What this proves: the wheel carries every module
and data file the CLI needs and the `craflow` entry point works outside the checkout.
"""

import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_and_sdist_build_install_and_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("craflow-*.whl"))
    sdist = next(dist.glob("craflow-*.tar.gz"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("craflow/cli.py", "config/stack.py", "craflow/budget/gcra.py", "flows/"):
        assert any(name.startswith(needed) for name in names), needed
    assert any(name.startswith("craflow/sandbox/data/vulndb/") for name in names)
    # the one bundled copy of each official schema, with its licence notes (vex and incident)
    for schema in ("csaf_json_schema_2.0.json", "cvss-v3.1.json", "LICENSE-OASIS-CSAF.md"):
        assert f"craflow/schemas/{schema}" in names, schema
    with tarfile.open(sdist) as archive:
        assert any(
            name.endswith("craflow/sandbox/data/vulndb/cisa-kev.json.gz")
            for name in archive.getnames()
        )

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    clean = {"PATH": "/usr/bin:/bin"}  # no PYTHONPATH: the checkout must not be imported
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=clean,
    )
    result = subprocess.run(
        [str(env_dir / "bin" / "craflow"), "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean,
    )
    assert result.returncode == 0, result.stderr
    assert "stack" in result.stdout and "release" in result.stdout
