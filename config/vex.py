"""Settings for reading and writing VEX documents and for carrying triage (`CRAFLOW_VEX_*`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings


class VexSettings(CraflowSettings):
    """Limits that protect `craflow vex apply` against hostile input, and the author named."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_VEX_", extra="ignore", frozen=True)

    max_input_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest VEX file read (bytes); a larger one is refused before parsing.",
    )
    max_json_depth: int = Field(
        default=64, ge=8, le=1000, description="Deepest JSON nesting accepted in a VEX file."
    )
    max_statements: int = Field(
        default=100_000,
        ge=1,
        le=10_000_000,
        description="Most statements (vulnerability x product) read from one VEX file.",
    )
    carry_triage: bool = Field(
        default=True,
        description="Carry the previous release's triage forward in a release run "
        "(a request's carry_triage / --no-carry-triage overrides it).",
    )
    upload: bool = Field(
        default=True,
        description="Upload the version's VEX as a `vex` artifact when a release archives its "
        "evidence (each upload spends one of the API's uploads per hour).",
    )
    author: str = Field(
        default="craflow",
        min_length=1,
        max_length=200,
        description="Author (OpenVEX) and publisher name (CSAF) written into VEX documents.",
    )
