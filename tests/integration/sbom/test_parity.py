"""craflow against cyclonedx-py on the same inputs: same purls, richer BSI report."""

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from craflow.sbom import check_quality, generate_sbom, read_sbom, write_sbom

pytestmark = pytest.mark.integration

CYCLONEDX_PY = Path(sys.executable).parent / "cyclonedx-py"

DISTS = {
    "Foo_Bar-1.0": (
        "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nAuthor: Foo Team\n"
        "License: MIT\nRequires-Dist: baz>=1\nRequires-Dist: pytest ; extra == 'test'\n",
        None,
    ),
    "baz-2.0": (
        "Metadata-Version: 2.4\nName: baz\nVersion: 2.0\n"
        "Author-email: Baz People <baz@example.org>\nLicense-Expression: Apache-2.0 OR MIT\n"
        "Project-URL: Source, https://example.org/baz\n",
        None,
    ),
    "from_git-0.1": (
        "Metadata-Version: 2.1\nName: from-git\nVersion: 0.1\n",
        {
            "url": "https://example.org/from-git.git",
            "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef0123456789abcdef01234567"},
        },
    ),
    "local_thing-3.0": (
        "Metadata-Version: 2.1\nName: local-thing\nVersion: 3.0\n",
        {"url": "file:///src/local-thing", "dir_info": {}},
    ),
}


@pytest.fixture(scope="module")
def small_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv without pip, holding four fake distributions (offline, fast)."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    site = next((root / "lib").glob("python3*/site-packages"))
    for dirname, (metadata, direct_url) in DISTS.items():
        info = site / f"{dirname}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(metadata)
        if direct_url is not None:
            (info / "direct_url.json").write_text(json.dumps(direct_url))
    return root


def _cyclonedx_py(args: list[str], out: Path) -> Path:
    subprocess.run(
        [str(CYCLONEDX_PY), *args, "--no-validate", "-o", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_same_purls_as_cyclonedx_py_for_an_environment(small_venv: Path, tmp_path: Path) -> None:
    theirs = read_sbom(
        _cyclonedx_py(["environment", str(small_venv / "bin" / "python")], tmp_path / "theirs.json")
    )
    bom = generate_sbom("env", str(small_venv), product="demo", version="1")
    ours = read_sbom(write_sbom(bom, tmp_path / "ours.json"))
    print("cyclonedx-py:", sorted(theirs.purls))
    print("craflow:     ", sorted(ours.purls))
    assert ours.purls == theirs.purls
    assert len(ours.purls) == 3  # the local directory install has no purl, in both
    assert ours.component_count == theirs.component_count == 4
    deps = {c.name: c for c in ours.components}
    assert deps["Foo_Bar"].in_dependency_graph


def test_richer_bsi_report_than_cyclonedx_py(small_venv: Path, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "idna==3.10 --hash=sha256:" + "a" * 64 + "\n"
        "requests==2.32.3 --hash=sha256:" + "b" * 64 + "\n"
    )
    cases = {
        "environment": (
            ["environment", str(small_venv / "bin" / "python")],
            "env",
            str(small_venv),
        ),
        "requirements": (["requirements", str(requirements)], "requirements", str(requirements)),
    }
    for label, (their_args, source, target) in cases.items():
        theirs = check_quality(_cyclonedx_py(their_args, tmp_path / f"{label}-theirs.json"))
        bom = generate_sbom(source, target, product="demo", version="1")
        ours = check_quality(write_sbom(bom, tmp_path / f"{label}-ours.json"))
        print(f"{label}: BSI score craflow {ours.score} vs cyclonedx-py {theirs.score}")
        assert ours.score > theirs.score
    hashed = read_sbom(tmp_path / "requirements-ours.json")
    assert all("SHA-256" in c.hash_algorithms for c in hashed.components)
