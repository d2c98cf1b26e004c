"""What a run is asked to do, as frozen, typed values validated once where they enter.

`ReleaseRequest` is built by `craflow release`, by the `craflow.release.requested`
event trigger (Prefect validates the rendered parameter into this model) and by a
deployment run alike, and passed whole down the release flow. `SweepRequest`,
`CompareRequest` and `ExportRequest` do the same for the other flows.

An archive root (`--export`, `--to`) is parsed once, here, into an `ArchiveTarget`
(`S3Location | FileLocation`); it travels as that value and is serialised back to its
URI only for Prefect's parameter store. Fields left `None` (gate threshold, unknown
severity, promotion target, archive root) take their configured default
(`ReleaseSettings`, `EvidenceSettings`) when the run starts, never at import.
"""

from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from craflow.evidence.uri import FileLocation, Location, S3Location, parse_location
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.release.gate import FailOn, GatePolicy, UnknownAs
from craflow.release.names import check_product_slug, check_version_number
from craflow.release.states import check_state


def _to_location(value: object) -> object:
    return parse_location(value) if isinstance(value, str) else value


def _to_uri(value: Location) -> str:
    return value.uri


#: an archive root, parsed once from `s3://bucket/prefix`, `file:///dir` or a path; a
#: string in the flows' parameter schema (what events, the UI and run_deployment pass)
ArchiveTarget = Annotated[
    S3Location | FileLocation,
    BeforeValidator(_to_location, json_schema_input_type=str),
    PlainSerializer(_to_uri),
]


def _original_error(exc: ValidationError) -> Exception:
    """The typed error a validator raised (pydantic wraps it), else a `ReleaseInputError`."""
    for error in exc.errors():
        original = error.get("ctx", {}).get("error")
        if isinstance(original, Exception):
            return original
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    return ReleaseInputError(f"{where}: {first['msg']}")


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def build(cls, **fields: object) -> Self:
        """Validate *fields*; a bad one raises its typed error (never a pydantic error)."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise _original_error(exc) from None


class ReleaseRequest(_Request):
    """One release: product, version, SBOM choice, gate policy, promotion, archive, CI facts."""

    product: str
    version: str
    sbom: str | None = Field(None, description="SBOM file: path, file:// or s3:// URI.")
    sbom_source: str | None = Field(None, description="requirements:F, uv-lock:F or env:PYTHON.")
    previous: str | None = Field(None, description="Compare with this version (default: last).")
    fail_on: FailOn | None = None
    unknown_as: UnknownAs | None = None
    new_only: bool = False
    fail_on_kev: bool = False
    require_ready: bool = False
    promote: str | None = None
    deprecate_previous: bool = False
    export: ArchiveTarget | None = None
    retain_years: int | None = Field(None, ge=1, le=100)
    ci: dict[str, str] | None = None
    carry_triage: bool | None = Field(
        None,
        description="Carry the previous release's triage forward (default: "
        "CRAFLOW_VEX_CARRY_TRIAGE, on); False is --no-carry-triage.",
    )

    @field_validator("product")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_product_slug(value)

    @field_validator("version", "previous")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        return None if value is None else check_version_number(value)

    @field_validator("fail_on", mode="before")
    @classmethod
    def _fail_on(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value == "ignore":
                raise GateConfigError(
                    f"--fail-on must be one of critical, high, medium, low, none (got {value!r})"
                )
            GatePolicy.check_option(value)
        return value

    @field_validator("unknown_as", mode="before")
    @classmethod
    def _unknown_as(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value == "none":
                raise GateConfigError(
                    f"--unknown-as must be one of critical, high, medium, low, ignore "
                    f"(got {value!r})"
                )
            GatePolicy.check_option(value)
        return value

    @field_validator("promote")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        return value if value in (None, "none") else check_state(str(value))

    @model_validator(mode="after")
    def _one_sbom(self) -> "ReleaseRequest":
        if (self.sbom is None) == (self.sbom_source is None):
            raise ReleaseUsageError("give exactly one of --sbom FILE or --from SOURCE")
        return self

    def policy(self, fail_on: FailOn, unknown_as: UnknownAs) -> GatePolicy:
        """The gate policy, with the configured defaults for fields left unset."""
        return GatePolicy(
            fail_on=self.fail_on or fail_on,
            new_only=self.new_only,
            fail_on_kev=self.fail_on_kev,
            require_ready=self.require_ready,
            unknown_as=self.unknown_as or unknown_as,
        )


class ReleaseUsageError(GateConfigError):
    """The request's options contradict each other (exit 2, like any usage error)."""


class SweepRequest(_Request):
    """A sweep: which products and states, how many at once, where snapshots go."""

    products: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    concurrency: int = Field(8, ge=1)
    export: ArchiveTarget | None = None
    export_changed: bool = False

    @field_validator("states")
    @classmethod
    def _states(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(check_state(s) for s in value)


class CompareRequest(_Request):
    """Compare version *base* with *target* of *product*."""

    product: str
    base: str
    target: str


class ExportRequest(_Request):
    """Archive the evidence of a version released earlier."""

    product: str
    version: str
    to: ArchiveTarget | None = None
    retain_years: int | None = Field(None, ge=1, le=100)


__all__ = [
    "ArchiveTarget",
    "CompareRequest",
    "ExportRequest",
    "GateConfigError",
    "ReleaseInputError",
    "ReleaseRequest",
    "ReleaseUsageError",
    "SweepRequest",
    "TransitionError",
]
