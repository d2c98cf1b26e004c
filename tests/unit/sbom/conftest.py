# ruff: noqa: E501 - lockfile lines are long by nature
"""Shared data for the SBOM unit tests: the real SBOMs and small lock/requirements files."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "sboms"
REAL_SBOMS = sorted(p for p in DATA.iterdir() if p.suffix in (".json", ".xml"))

SHA = "a" * 64
SHA_B = "b" * 64

UV_LOCK = f"""
version = 1
requires-python = ">=3.11"

[[package]]
name = "demo-app"
version = "0.3.0"
source = {{ editable = "." }}
dependencies = [{{ name = "requests" }}]

[[package]]
name = "requests"
version = "2.32.3"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{{ name = "idna" }}]
sdist = {{ url = "https://files.pythonhosted.org/packages/requests-2.32.3.tar.gz", hash = "sha256:{SHA}", size = 1 }}
wheels = [{{ url = "https://files.pythonhosted.org/packages/requests-2.32.3-py3-none-any.whl", hash = "sha256:{SHA_B}", size = 1 }}]

[[package]]
name = "idna"
version = "3.10"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://files.pythonhosted.org/packages/idna-3.10-py3-none-any.whl", hash = "sha256:{SHA_B}", size = 1 }}]
"""

POETRY_LOCK = f"""
[[package]]
name = "Requests"
version = "2.32.3"
description = "HTTP"
optional = false
python-versions = ">=3.8"
files = [
    {{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:{SHA_B}"}},
    {{file = "requests-2.32.3.tar.gz", hash = "sha256:{SHA}"}},
]

[package.dependencies]
idna = ">=2.5,<4"

[[package]]
name = "idna"
version = "3.10"
description = "IDNA"
optional = false
python-versions = ">=3.6"
files = [{{file = "idna-3.10-py3-none-any.whl", hash = "sha256:{SHA_B}"}}]
"""

PYLOCK = f"""
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "requests"
version = "2.32.3"
index = "https://pypi.org/simple"
dependencies = [{{ name = "idna" }}]
[packages.sdist]
url = "https://files.pythonhosted.org/packages/requests-2.32.3.tar.gz"
hashes = {{ sha256 = "{SHA}" }}

[[packages]]
name = "idna"
version = "3.10"
[[packages.wheels]]
url = "https://files.pythonhosted.org/packages/idna-3.10-py3-none-any.whl"
hashes = {{ sha256 = "{SHA_B}" }}
"""


@pytest.fixture
def lockfiles(tmp_path: Path) -> dict[str, Path]:
    """One small lockfile of each supported kind."""
    files = {
        "uv-lock": ("uv.lock", UV_LOCK),
        "poetry-lock": ("poetry.lock", POETRY_LOCK),
        "pylock": ("pylock.toml", PYLOCK),
    }
    out: dict[str, Path] = {}
    for kind, (name, text) in files.items():
        path = tmp_path / name
        path.write_text(text)
        out[kind] = path
    return out
