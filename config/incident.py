"""Settings of the Art. 14 reporting clock and its drafts (`CRAFLOW_INCIDENT_*`).

The legal periods (24 h, 72 h, 14 days) are not settings: the Regulation fixes them.
"""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings


class IncidentSettings(CraflowSettings):
    """When a report counts as due, and who publishes the CSAF advisory drafts."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_INCIDENT_")

    due_window_hours: float = Field(
        default=6.0,
        ge=0.5,
        le=48.0,
        description="Hours before a deadline from which a stage counts as due "
        "(`craflow.report.due`).",
    )
    publisher_name: str = Field(
        default="TO FILL: manufacturer name",
        min_length=1,
        max_length=200,
        description="The manufacturer named as publisher of CSAF advisory drafts.",
    )
    publisher_namespace: str = Field(
        default="https://example.invalid",
        pattern=r"^https?://\S+$",
        max_length=500,
        description="A URL the manufacturer controls, the CSAF publisher namespace.",
    )
    max_open_cases_listed: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Open cases the clock flow's table artifact lists at most.",
    )
