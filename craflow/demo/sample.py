"""The demo's sample product: two versions of a small web client's pinned dependencies.

1.0.0 pins requests 2.19.0 with the urllib3 and idna it shipped with: the sandbox's
vulnerability data flags requests (PYSEC-2018-28 / CVE-2018-18074), urllib3
(PYSEC-2023-192 / CVE-2023-43804, high) and idna (PYSEC-2024-60 / CVE-2024-3651,
high), so the release gate blocks it. 1.1.0 pins current, fixed releases and passes.
"""

from pathlib import Path

VULNERABLE_REQUIREMENTS = """\
# demo-webshop 1.0.0: requests 2.19.0 and the dependencies it shipped with
requests==2.19.0
urllib3==1.23
idna==2.7
chardet==3.0.4
certifi==2018.4.16
"""

FIXED_REQUIREMENTS = """\
# demo-webshop 1.1.0: the same client on fixed releases
requests==2.32.3
urllib3==2.2.3
idna==3.10
charset-normalizer==3.4.0
certifi==2024.8.30
"""

EXPECTED_FINDING = "PYSEC-2018-28"


def write_sample(folder: Path, version: str, requirements: str) -> Path:
    """Write one version's `requirements.txt` under *folder*/*version*/ and return its path."""
    target = folder / version / "requirements.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(requirements, encoding="utf-8")
    return target
