"""Match SBOM components against OSV records; flag CISA KEV entries; rate severity.

A component matches a record when its purl's ecosystem and normalised name equal
an `affected[].package` and its version falls in an ECOSYSTEM/SEMVER range or in
the explicit `versions` list. Components without a purl are not matched (their
ecosystem is unknown). Severity comes from the record's CVSS v3 (or v4) vector
via the `cvss` library: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, otherwise
low; a record without a vector is "unknown". KEV: any alias (or the id) that is
a CVE listed in the KEV catalogue.

Several advisory sets load through the same path (`BUNDLED_OSV_SETS`, then any
`--osv` paths). One vulnerability often has a record in more than one set
(PYSEC-2018-28 and GHSA-x84v-xcm2-53pg are both CVE-2018-18074): a component
gets one finding per vulnerability, from the record that rates it (CVSS)
first, then in load order; the other records' ids join its aliases.
"""

import gzip
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cvss import CVSS3, CVSS4
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from craflow.sandbox.sbom_parse import Component
from craflow.sandbox.versions import in_range, version_key

PURL_TYPE_TO_ECOSYSTEM = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "cargo": "crates.io",
    "maven": "Maven",
    "composer": "Packagist",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "hex": "Hex",
    "pub": "Pub",
    "cocoapods": "CocoaPods",
    "swift": "SwiftURL",
}


@dataclass(frozen=True)
class Finding:
    vuln_id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str
    cvss_score: float | None
    kev: bool
    component: Component
    fixed_versions: tuple[str, ...]


def normalise_name(ecosystem: str, name: str) -> str:
    return str(canonicalize_name(name)) if ecosystem == "PyPI" else name.lower()


def purl_identity(purl: str) -> tuple[str, str] | None:
    """(OSV ecosystem, normalised name) of a purl, or None when it cannot be read."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    ecosystem = PURL_TYPE_TO_ECOSYSTEM.get(parsed.type, parsed.type)
    namespace = parsed.namespace or ""
    if ecosystem == "Maven":
        name = f"{namespace}:{parsed.name}" if namespace else parsed.name
    elif namespace:
        name = f"{namespace}/{parsed.name}"
    else:
        name = parsed.name
    return ecosystem, normalise_name(ecosystem, name)


def severity_of(record: dict[str, Any]) -> tuple[str, float | None]:
    for entry in record.get("severity") or []:
        vector = entry.get("score", "") if isinstance(entry, dict) else ""
        try:
            if entry.get("type") == "CVSS_V3":
                score = float(CVSS3(vector).base_score)
            elif entry.get("type") == "CVSS_V4":
                score = float(CVSS4(vector).base_score)
            else:
                continue
        except Exception:  # noqa: S112 - a malformed vector is skipped, the rule stays documented
            continue
        if score >= 9.0:
            return "critical", score
        if score >= 7.0:
            return "high", score
        if score >= 4.0:
            return "medium", score
        return "low", score
    return "unknown", None


#: advisory sets shipped with the sandbox and loaded by default (see data/vulndb/README.md)
BUNDLED_OSV_SETS = ("osv-pypi.jsonl.gz", "ghsa-pypi.jsonl.gz")


def bundled_data_dir() -> Path:
    return Path(str(resources.files("craflow.sandbox") / "data" / "vulndb"))


class VulnDb:
    """OSV records indexed by (ecosystem, normalised name), plus the KEV CVE set.

    The bundled data is read once, in a background thread started by the first
    `load_in_background()` (the first scan, or start-up of `craflow sandbox`), so a
    sandbox that never scans never pays for it; `match` and `add` wait for it.
    """

    def __init__(self, extra_osv_paths: Iterable[Path] = ()) -> None:
        self._extra = tuple(extra_osv_paths)
        self._index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._kev: set[str] = set()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._error: Exception | None = None
        self._started = False

    def load_in_background(self) -> None:
        """Start loading once; later calls do nothing."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="sandbox-vulndb", daemon=True).start()

    def load_now(self) -> None:
        with self._lock:
            self._started = True
        self._load()

    def _load(self) -> None:
        try:
            data = bundled_data_dir()
            records: list[dict[str, Any]] = []
            for path in (*(data / name for name in BUNDLED_OSV_SETS), *self._extra):
                records.extend(read_osv_path(path))
            with gzip.open(data / "cisa-kev.json.gz", "rt", encoding="utf-8") as kev_file:
                kev = {v["cveID"] for v in json.load(kev_file)["vulnerabilities"]}
            with self._lock:
                self._kev |= kev
            self.add(records)
        except Exception as exc:
            self._error = exc
        finally:
            self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> None:
        self.load_in_background()
        self._ready.wait(timeout)
        if self._error is not None:
            raise RuntimeError(f"vulnerability data failed to load: {self._error}")

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        count = 0
        with self._lock:
            for record in records:
                for affected in record.get("affected") or []:
                    package = affected.get("package") or {}
                    eco, name = package.get("ecosystem"), package.get("name")
                    if isinstance(eco, str) and isinstance(name, str):
                        key = (eco, normalise_name(eco, name))
                        self._index.setdefault(key, []).append(record)
                count += 1
        return count

    def is_kev(self, ids: Iterable[str]) -> bool:
        return any(i in self._kev for i in ids)

    def match(self, components: Iterable[Component]) -> list[Finding]:
        self.wait_ready()
        findings: list[Finding] = []
        for component in components:
            identity = purl_identity(component.purl) if component.purl else None
            if identity is None or not component.version:
                continue
            with self._lock:
                candidates = list(self._index.get(identity, ()))
            affecting = [r for r in candidates if _affects(r, identity, component.version)]
            findings.extend(self._merged(affecting, identity, component))
        return findings

    def _merged(
        self, records: list[dict[str, Any]], identity: tuple[str, str], component: Component
    ) -> list[Finding]:
        """One finding per vulnerability: records sharing an id or alias are one."""
        rated_first = sorted(records, key=lambda r: severity_of(r)[1] is None)  # stable
        groups: list[tuple[dict[str, Any], set[str]]] = []
        for record in rated_first:
            ids = {str(record["id"]), *(str(a) for a in record.get("aliases") or [])}
            group = next((g for g in groups if g[1] & ids), None)
            if group is None:
                groups.append((record, ids))
            else:
                group[1].update(ids)
        findings = []
        for record, ids in groups:
            finding = self._finding(record, identity, component)
            extra = tuple(sorted(ids - {finding.vuln_id, *finding.aliases}))
            findings.append(replace(finding, aliases=finding.aliases + extra))
        return findings

    def _finding(
        self, record: dict[str, Any], identity: tuple[str, str], component: Component
    ) -> Finding:
        aliases = tuple(str(a) for a in record.get("aliases") or [])
        severity, score = severity_of(record)
        fixed = tuple(
            event["fixed"]
            for affected in _entries_for(record, identity)
            for rng in affected.get("ranges") or []
            if rng.get("type") in ("ECOSYSTEM", "SEMVER")
            for event in rng.get("events") or []
            if "fixed" in event
        )
        summary = record.get("summary") or (record.get("details") or "")[:200]
        return Finding(
            vuln_id=str(record["id"]),
            aliases=aliases,
            summary=str(summary),
            severity=severity,
            cvss_score=score,
            kev=self.is_kev((record["id"], *aliases)),
            component=component,
            fixed_versions=fixed,
        )


def _entries_for(record: dict[str, Any], identity: tuple[str, str]) -> list[dict[str, Any]]:
    eco, name = identity
    return [
        a
        for a in record.get("affected") or []
        if (a.get("package") or {}).get("ecosystem") == eco
        and normalise_name(eco, str((a.get("package") or {}).get("name", ""))) == name
    ]


def _affects(record: dict[str, Any], identity: tuple[str, str], version: str) -> bool:
    key = version_key(identity[0])
    for affected in _entries_for(record, identity):
        if version in (affected.get("versions") or []):
            return True
        for rng in affected.get("ranges") or []:
            if rng.get("type") in ("ECOSYSTEM", "SEMVER") and in_range(
                version, rng.get("events") or [], key
            ):
                return True
    return False


def read_osv_path(path: Path) -> list[dict[str, Any]]:
    """OSV records from a `.json` file (one record or a list), `.jsonl`(`.gz`), or a folder."""
    if path.is_dir():
        found: list[dict[str, Any]] = []
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.name.endswith((".json", ".jsonl", ".jsonl.gz")):
                found.extend(read_osv_path(child))
        return found
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    loaded = json.loads(text)
    return loaded if isinstance(loaded, list) else [loaded]
