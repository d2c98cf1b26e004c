"""The versions a sweep re-checks."""

from pydantic import BaseModel, ConfigDict

from craflow.sweep.outcome import ProductFailure
from craflow.sweep.snapshot import version_key


class VersionTarget(BaseModel):
    """One version of one product, with the ids the API needs."""

    model_config = ConfigDict(frozen=True)

    product: str
    product_id: str
    version: str
    version_id: str
    release_state: str | None = None

    @property
    def key(self) -> str:
        return version_key(self.product, self.version)


class TargetSelection(BaseModel):
    """What a sweep checks: the versions, the products, what matched nothing, what failed."""

    model_config = ConfigDict(frozen=True)

    targets: tuple[VersionTarget, ...] = ()
    products: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    failed: tuple[ProductFailure, ...] = ()
