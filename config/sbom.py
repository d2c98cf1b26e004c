"""Settings for building, reading, validating and scoring SBOMs (`CRAFLOW_SBOM_*`)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

SpecVersion = Literal["1.5", "1.6", "1.7"]
LifecyclePhase = Literal[
    "design", "pre-build", "build", "post-build", "operations", "discovery", "decommission"
]


class SbomSettings(CraflowSettings):
    """How craflow builds and reads SBOMs. Every limit protects against hostile input."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_SBOM_", extra="ignore", frozen=True)

    default_spec: SpecVersion = Field(
        default="1.6", description="CycloneDX spec version written when none is asked for."
    )
    max_input_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        le=4 * 1024 * 1024 * 1024,
        description="Largest SBOM, lock or requirements file craflow will read, in bytes.",
    )
    max_json_depth: int = Field(
        default=64,
        ge=8,
        le=1000,
        description="Deepest nesting of JSON arrays/objects accepted in an input file.",
    )
    creator_name: str | None = Field(
        default=None, description="Name of the organisation that creates the SBOM (BSI: creator)."
    )
    creator_email: str | None = Field(
        default=None, description="E-mail contact of the SBOM creator (BSI: creator contact)."
    )
    creator_url: str | None = Field(
        default=None, description="Web address of the SBOM creator (BSI: creator contact)."
    )
    lifecycle_phase: LifecyclePhase = Field(
        default="build", description="CycloneDX lifecycle phase recorded in the SBOM metadata."
    )
    command_timeout_seconds: float = Field(
        default=600.0,
        ge=1.0,
        le=7200.0,
        description="How long an external generator (`--from command`) may run.",
    )
    inspect_timeout_seconds: float = Field(
        default=120.0,
        ge=1.0,
        le=3600.0,
        description="How long the inspection of a Python environment (`--from env`) may run.",
    )
    hash_chunk_bytes: int = Field(
        default=1024 * 1024,
        ge=4096,
        le=64 * 1024 * 1024,
        description="Read size used when hashing local artifacts.",
    )
    reproducible_epoch: int = Field(
        default=0,
        ge=0,
        le=253402300799,
        description=(
            "Timestamp (Unix seconds) written by `--reproducible` when SOURCE_DATE_EPOCH is unset."
        ),
    )
