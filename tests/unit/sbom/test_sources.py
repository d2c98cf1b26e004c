from pathlib import Path

import pytest

from craflow.sbom import SbomFileNotFoundError, SbomFormatError
from craflow.sbom.sources.env import resolve_requires
from craflow.sbom.sources.lockfiles import read_poetry_lock, read_pylock, read_uv_lock
from craflow.sbom.sources.requirements import read_requirements
from tests.unit.sbom.conftest import SHA, SHA_B

READERS = {"uv-lock": read_uv_lock, "poetry-lock": read_poetry_lock, "pylock": read_pylock}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_lockfile_packages_carry_sha256_and_graph(kind: str, lockfiles: dict[str, Path]) -> None:
    result = READERS[kind](lockfiles[kind], max_bytes=10_000)
    by_key = {p.key: p for p in result.packages}
    assert set(by_key) == {"requests", "idna"}
    assert by_key["requests"].hashes[0].alg == "SHA-256"
    assert by_key["requests"].hashes[0].value == SHA  # the sdist is the primary artifact
    assert by_key["requests"].filename == "requests-2.32.3.tar.gz"
    assert by_key["idna"].hashes[0].value == SHA_B
    assert by_key["requests"].requires == ("idna",)
    assert result.graph is True
    assert by_key["requests"].purl == "pkg:pypi/requests@2.32.3"


def test_uv_lock_editable_root_is_the_product(lockfiles: dict[str, Path]) -> None:
    result = read_uv_lock(lockfiles["uv-lock"], max_bytes=10_000)
    assert (result.product_name, result.product_version) == ("demo-app", "0.3.0")
    assert result.direct == ("requests",)


def test_wrong_kind_of_lockfile_is_one_clear_error(lockfiles: dict[str, Path]) -> None:
    with pytest.raises(SbomFormatError, match="lock-version"):
        read_pylock(lockfiles["uv-lock"], max_bytes=10_000)
    with pytest.raises(SbomFileNotFoundError):
        read_uv_lock(lockfiles["uv-lock"].parent / "missing.lock", max_bytes=10_000)


def test_requirements_pinned_hashed_unpinned_and_local(tmp_path: Path) -> None:
    wheel = tmp_path / "local_pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    (tmp_path / "base.txt").write_text("idna==3.10\n")
    req = tmp_path / "requirements.txt"
    req.write_text(
        "-r base.txt\n"
        f"requests==2.32.3 \\\n    --hash=sha256:{SHA}\n"
        "flask>=3  # not pinned\n"
        "-e ./src\n"
        f"local-pkg @ file://{wheel}\n"
        "--index-url https://pypi.org/simple\n"
        "not a requirement !!\n"
    )
    result = read_requirements(req, max_bytes=10_000, chunk_bytes=4096)
    by_key = {p.key: p for p in result.packages}
    assert set(by_key) == {"idna", "requests", "flask", "local-pkg"}
    assert by_key["requests"].hashes[0].value == SHA
    assert by_key["flask"].version is None
    local = by_key["local-pkg"]
    assert local.version == "1.0"
    assert {h.alg for h in local.hashes} == {"SHA-256", "SHA-512"}
    assert local.purl is None
    problems = " | ".join(result.problems)
    assert "'flask>=3' is not pinned" in problems
    assert "editable" in problems
    assert "not a requirement" in problems


def test_extras_count_only_when_requested() -> None:
    env = {
        "python_version": "3.11",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "python_full_version": "3.11.7",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": "3.11.7",
    }
    graph = resolve_requires(
        {
            "a": ["b[fast]", "c ; python_version < '3'"],
            "b": ["d ; extra == 'fast'", "e ; extra == 'test'"],
            "c": [],
            "d": [],
            "e": [],
        },
        env,
    )
    assert graph["a"] == ("b",)
    assert graph["b"] == ("d",)
