"""The adapters from the API's records to the incident entry's typed values."""

from craflow.api.models import Component, Product, Vulnerability
from tasks.incident import kev_hit_from_vulnerability, released_version


def test_kev_hit_from_api_records() -> None:
    product = Product(id="p", name="Widget", slug="widget", target_markets=["DE"])
    vuln = Vulnerability(
        id="v",
        vuln_id="CVE-2024-3094",
        aliases=["GHSA-rxwx-x3fr-6f8w"],
        summary="Backdoor",
        severity="critical",
        cvss_score=10.0,
        kev=True,
        component=Component(name="xz", version="5.6.1", purl="pkg:generic/xz@5.6.1"),
        fixed_versions=["5.6.2"],
    )
    hit = kev_hit_from_vulnerability(product, "1.4.0", vuln)
    assert (hit.product, hit.vulnerability, hit.version) == ("widget", "CVE-2024-3094", "1.4.0")
    assert hit.target_markets == ("DE",)
    assert hit.facts.fixed_upstream == ("5.6.2",)
    assert hit.facts.component is not None and hit.facts.component.name == "xz"
    released = released_version("1.4.0", [vuln])
    assert released.vulnerability_ids == {"CVE-2024-3094", "GHSA-rxwx-x3fr-6f8w"}
