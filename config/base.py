"""The shared base of every craflow settings class.

Every tunable lives in a pydantic-settings class under `config/`, with a
description and bounds, read from environment variables prefixed `CRAFLOW_`
(the platform's own `CRA_EVIDENCE_*` variables are read where they apply).
"""

from pydantic_settings import BaseSettings, SettingsConfigDict


class CraflowSettings(BaseSettings):
    """Base class: `CRAFLOW_` prefix, unknown variables ignored, values validated."""

    model_config = SettingsConfigDict(
        env_prefix="CRAFLOW_",
        extra="ignore",
        validate_default=True,
        frozen=True,
    )
