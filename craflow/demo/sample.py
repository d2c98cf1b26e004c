"""The demo's sample product: two versions of a small web client's pinned dependencies.

1.0.0 pins requests 2.19.0 with the urllib3 and idna it shipped with: the sandbox's
vulnerability data flags requests (PYSEC-2018-28 / CVE-2018-18074), urllib3
(PYSEC-2023-192 / CVE-2023-43804, high) and idna (PYSEC-2024-60 / CVE-2024-3651,
high), so the release gate blocks it. 1.1.0 pins current, fixed releases and passes.

Both pin `py 1.11.0`, flagged by PYSEC-2022-42969 (a ReDoS in `py.path.svnwc`, no fixed
release; no CVSS, so the gate counts it as high). The demo triages it on 1.0.0 as
`not_affected` (the Subversion helpers are never called); 1.1.0 carries that decision
forward, because the component and its version did not change, and passes.

After 1.1.0 is released, a (made-up, sandbox-only) advisory for `charset-normalizer
3.4.0` appears and its CVE is listed in KEV: the sweep sees the hit on the released
version and an Art. 14 case opens.
"""

from pathlib import Path

VULNERABLE_REQUIREMENTS = """\
# demo-webshop 1.0.0: requests 2.19.0 and the dependencies it shipped with
requests==2.19.0
urllib3==1.23
idna==2.7
chardet==3.0.4
certifi==2018.4.16
py==1.11.0
"""

FIXED_REQUIREMENTS = """\
# demo-webshop 1.1.0: the same client on fixed releases
requests==2.32.3
urllib3==2.2.3
idna==3.10
charset-normalizer==3.4.0
certifi==2024.8.30
py==1.11.0
"""

#: 1.1.0's pins without the shared `py` pin: a release with no finding to triage (e2e tests)
CLEAN_REQUIREMENTS = "".join(
    line for line in FIXED_REQUIREMENTS.splitlines(keepends=True) if not line.startswith("py==")
)

EXPECTED_FINDING = "PYSEC-2018-28"

#: the finding triaged on 1.0.0 and carried to 1.1.0
TRIAGED_COMPONENT = "py"
TRIAGE_JUSTIFICATION = "vulnerable_code_not_in_execute_path"
TRIAGE_NOTE = "py.path.svnwc (Subversion working copies) is never imported by the webshop."

#: a made-up advisory, added to the sandbox after 1.1.0 is released, whose CVE the demo
#: lists in the sandbox's KEV catalogue (nothing real is claimed about charset-normalizer)
KEV_CVE = "CVE-2026-0001"
KEV_ADVISORY = {
    "id": "DEMO-2026-0001",
    "aliases": [KEV_CVE],
    "summary": "Demo only: a made-up flaw in charset-normalizer, exploited in the wild",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "charset-normalizer"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
        }
    ],
}


def write_sample(folder: Path, version: str, requirements: str) -> Path:
    """Write one version's `requirements.txt` under *folder*/*version*/ and return its path."""
    target = folder / version / "requirements.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(requirements, encoding="utf-8")
    return target
