"""The API's resources as pydantic models, tolerant of what they do not know.

Field names follow API-CONTRACT.md. Unknown fields are ignored, most fields are optional,
so a server that adds or omits something does not break the pipeline.
"""

import json
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class ApiModel(BaseModel):
    """Base of every resource: unknown fields ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Product(ApiModel):
    id: str
    name: str
    slug: str | None = None
    category: str | None = None
    created_at: datetime | None = None
    target_markets: list[str] = Field(default_factory=list)


class Version(ApiModel):
    id: str
    product_id: str | None = None
    version_number: str = Field(validation_alias=AliasChoices("version_number", "number"))
    release_state: str | None = None
    cra_status: str | None = None
    superseded_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ScanInfo(ApiModel):
    scan_id: str | None = Field(default=None, validation_alias=AliasChoices("scan_id", "id"))
    status: str | None = None


class Sbom(ApiModel):
    id: str
    version_id: str | None = None
    filename: str | None = None
    format: str | None = None
    spec_version: str | None = None
    component_count: int | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    created_at: datetime | None = None


class IngestResult(ApiModel):
    sbom: Sbom
    scan: ScanInfo | None = None
    request_id: str | None = None


class ScanTrigger(ApiModel):
    scan_id: str | None = Field(default=None, validation_alias=AliasChoices("scan_id", "id"))
    status: str


class ProductRef(ApiModel):
    id: str | None = None
    name: str | None = None
    slug: str | None = None


class VersionRef(ApiModel):
    id: str | None = None
    number: str | None = Field(
        default=None, validation_alias=AliasChoices("number", "version_number")
    )
    cra_status: str | None = None
    release_state: str | None = None


class VulnerabilitySummary(ApiModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    total: int = 0


class SbomSummary(ApiModel):
    format: str | None = None
    component_count: int | None = None
    quality_score: float | None = None


class VulnBlocker(ApiModel):
    source: str | None = None
    vuln_id: str | None = None
    reason: str | None = None


def _as_text(item: object) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("item", "name", "description", "message", "detail"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return json.dumps(item, sort_keys=True, default=str)


class CraStatus(ApiModel):
    product: ProductRef | None = None
    version: VersionRef | None = None
    cra_status: str | None = None
    cra_floor_status: str | None = None
    release_policy_status: str | None = None
    release_state: str | None = None
    scan_state: str | None = None
    sbom: SbomSummary | None = None
    vulnerability_summary: VulnerabilitySummary = Field(default_factory=VulnerabilitySummary)
    kev_count: int = 0
    documents: dict[str, bool] = Field(default_factory=dict)
    cra_missing_items: list[str] = Field(default_factory=list)
    vuln_blockers: list[VulnBlocker] = Field(default_factory=list)

    @field_validator("cra_missing_items", mode="before")
    @classmethod
    def _items_as_text(cls, value: object) -> object:
        if isinstance(value, list):
            return [_as_text(item) for item in value]
        return value


class ComponentRef(ApiModel):
    name: str | None = None
    version: str | None = None
    purl: str | None = None


class ModifiedComponent(ApiModel):
    name: str | None = None
    purl: str | None = None
    old_version: str | None = None
    new_version: str | None = None


class ComparisonSummary(ApiModel):
    added: int = 0
    removed: int = 0
    modified: int = 0
    unchanged: int = 0


class ComponentChanges(ApiModel):
    added: list[ComponentRef] = Field(default_factory=list)
    removed: list[ComponentRef] = Field(default_factory=list)
    modified: list[ModifiedComponent] = Field(default_factory=list)


class VulnerabilityDiff(ApiModel):
    new: int = 0
    fixed: int = 0
    new_ids: list[str] = Field(default_factory=list)
    fixed_ids: list[str] = Field(default_factory=list)


class Comparison(ApiModel):
    product: ProductRef | None = None
    version_a: VersionRef | None = None
    version_b: VersionRef | None = None
    summary: ComparisonSummary = Field(default_factory=ComparisonSummary)
    changes: ComponentChanges = Field(default_factory=ComponentChanges)
    vulnerability_diff: VulnerabilityDiff = Field(default_factory=VulnerabilityDiff)


class Component(ApiModel):
    name: str | None = None
    version: str | None = None
    purl: str | None = None


class Vulnerability(ApiModel):
    id: str
    version_id: str | None = None
    vuln_id: str | None = None
    aliases: list[str] = Field(default_factory=list)
    summary: str | None = None
    severity: str = "unknown"
    cvss_score: float | None = None
    kev: bool = False
    component: Component | None = None
    fixed_versions: list[str] = Field(default_factory=list)
    status: str | None = None
    notes: str | None = None
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    justification: str | None = None
    status_changed_at: datetime | None = None


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """One page of a collection: the contract's envelope."""

    items: list[T] = Field(default_factory=list)
    total: int | None = None
    page: int | None = None
    per_page: int | None = None
    has_next: bool | None = None


class ArtifactUpload(ApiModel):
    """The answer of `POST /ci/upload` (an SBOM, VEX, HBOM or document artifact)."""

    artifact_id: str | None = Field(
        default=None, validation_alias=AliasChoices("artifact_id", "id")
    )
    artifact_type: str | None = None
    sha256: str | None = None
    message: str | None = None
    warnings: list[str] = Field(default_factory=list)
    product: ProductRef | None = None
    version: VersionRef | None = None
    cra_status: str | None = None
