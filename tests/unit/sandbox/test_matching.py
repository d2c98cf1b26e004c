from typing import Any

import pytest

from craflow.sandbox.matching import VulnDb, purl_identity, severity_of
from craflow.sandbox.sbom_parse import Component


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        ("pkg:pypi/PyYAML@6.0", ("PyPI", "pyyaml")),
        ("pkg:pypi/zope.interface@5", ("PyPI", "zope-interface")),
        ("pkg:npm/%40babel/core@7.0.0", ("npm", "@babel/core")),
        (
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar",
            ("Maven", "com.fasterxml.jackson.core:jackson-databind"),
        ),
        ("pkg:composer/laravel/framework@7.12.0", ("Packagist", "laravel/framework")),
        ("pkg:golang/github.com/gin-gonic/gin@v1.6.0", ("Go", "github.com/gin-gonic/gin")),
    ],
)
def test_purls_map_to_osv_ecosystem_and_normalised_name(
    purl: str, expected: tuple[str, str]
) -> None:
    assert purl_identity(purl) == expected


def test_unreadable_purl_has_no_identity() -> None:
    assert purl_identity("not-a-purl") is None


@pytest.mark.parametrize(
    ("vector", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", "high"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", "medium"),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "low"),
    ],
)
def test_severity_comes_from_the_cvss_base_score(vector: str, severity: str) -> None:
    rated, score = severity_of({"severity": [{"type": "CVSS_V3", "score": vector}]})
    assert rated == severity
    assert score is not None


def test_severity_without_a_vector_is_unknown() -> None:
    assert severity_of({}) == ("unknown", None)
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": "garbage"}]}) == (
        "unknown",
        None,
    )


@pytest.fixture(scope="module")
def vulndb() -> VulnDb:
    db = VulnDb()
    db.load_now()
    return db


def test_bundled_advisories_match_requests_2_19_0_once_with_a_rating(vulndb: VulnDb) -> None:
    # PYSEC-2018-28 (PyPA, no CVSS) and GHSA-x84v-xcm2-53pg (GitHub, CVSS 7.5) are one flaw
    findings = vulndb.match([Component("requests", "2.19.0", "pkg:pypi/requests@2.19.0")])
    by_id = {f.vuln_id: f for f in findings}
    flaw = by_id["GHSA-x84v-xcm2-53pg"]
    assert {"CVE-2018-18074", "PYSEC-2018-28"} <= set(flaw.aliases)
    assert (flaw.severity, flaw.cvss_score) == ("high", 7.5)
    assert "2.20.0" in flaw.fixed_versions
    assert "PYSEC-2018-28" not in by_id
    assert sum("CVE-2018-18074" in (f.vuln_id, *f.aliases) for f in findings) == 1
    fixed = vulndb.match([Component("requests", "2.20.0", "pkg:pypi/requests@2.20.0")])
    assert "GHSA-x84v-xcm2-53pg" not in {f.vuln_id for f in fixed}


def test_bundled_github_advisories_rate_the_demo_packages(vulndb: VulnDb) -> None:
    demo = [
        Component("requests", "2.19.0", "pkg:pypi/requests@2.19.0"),
        Component("urllib3", "1.23", "pkg:pypi/urllib3@1.23"),
        Component("idna", "2.7", "pkg:pypi/idna@2.7"),
        Component("certifi", "2018.4.16", "pkg:pypi/certifi@2018.4.16"),
    ]
    findings = vulndb.match(demo)
    rated = {f.vuln_id: f.severity for f in findings if f.severity != "unknown"}
    assert rated["GHSA-mh33-7rrq-662w"] == "high"  # urllib3 CVE-2019-11324
    assert rated["GHSA-xqr8-7jwr-rhp7"] == "high"  # certifi CVE-2023-37920
    assert "critical" not in rated.values()  # the demo's 1.0.0 is blocked as high (exit 11)
    pyyaml = vulndb.match([Component("PyYAML", "5.3", "pkg:pypi/pyyaml@5.3")])
    assert "critical" in {f.severity for f in pyyaml}


def test_kev_listed_alias_flags_the_finding(vulndb: VulnDb) -> None:
    findings = vulndb.match(
        [Component("apache-airflow", "1.10.0", "pkg:pypi/apache-airflow@1.10.0")]
    )
    assert any(f.kev for f in findings)


def test_components_without_purl_or_version_are_not_matched(vulndb: VulnDb) -> None:
    assert vulndb.match([Component("requests", "2.19.0", None)]) == []
    assert vulndb.match([Component("requests", "", "pkg:pypi/requests")]) == []


def test_added_records_match_any_ecosystem_with_its_version_rules(vulndb: VulnDb) -> None:
    record: dict[str, Any] = {
        "id": "TEST-NPM-1",
        "aliases": ["CVE-2099-0001"],
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [
                    {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.10.0"}]}
                ],
                "versions": ["2.0.0"],
            }
        ],
    }
    vulndb.add([record])
    hit = vulndb.match([Component("left-pad", "1.9.0", "pkg:npm/left-pad@1.9.0")])
    listed = vulndb.match([Component("left-pad", "2.0.0", "pkg:npm/left-pad@2.0.0")])
    miss = vulndb.match([Component("left-pad", "1.10.0", "pkg:npm/left-pad@1.10.0")])
    assert [f.vuln_id for f in hit] == ["TEST-NPM-1"]
    assert [f.vuln_id for f in listed] == ["TEST-NPM-1"]
    assert miss == []
