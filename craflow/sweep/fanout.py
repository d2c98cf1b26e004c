"""Fan-out of a sweep: plan the per-product chunks, collect their results exactly once.

A sweep's versions are split into chunks (one product each, at most `max_versions`
versions), each checked by its own flow run. `collect` turns whatever came back —
a chunk's result, or the reason it has none — into one snapshot per planned
version, in plan order: a version reported twice counts once, a version nobody
reported gets the chunk's reason as its error. No Prefect here.
"""

from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from craflow.sweep.snapshot import VersionSnapshot
from craflow.sweep.targets import VersionTarget


class SweepChunk(BaseModel):
    """The versions one fanned-out run checks: one product, in listing order."""

    model_config = ConfigDict(frozen=True)

    index: int
    product: str
    targets: tuple[VersionTarget, ...]

    @property
    def name(self) -> str:
        return f"{self.product}-{self.index}"


class ChunkResult(BaseModel):
    """What one chunk's run saw: a snapshot per version checked, a reason per version not."""

    model_config = ConfigDict(frozen=True)

    index: int
    snapshots: tuple[VersionSnapshot, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()


def plan_chunks(targets: Iterable[VersionTarget], max_versions: int) -> tuple[SweepChunk, ...]:
    """Group *targets* by product (first-seen order), at most *max_versions* per chunk."""
    if max_versions < 1:
        raise ValueError("max_versions must be at least 1")
    by_product: dict[str, list[VersionTarget]] = {}
    for target in targets:
        by_product.setdefault(target.product, []).append(target)
    chunks: list[SweepChunk] = []
    for product, versions in by_product.items():
        for start in range(0, len(versions), max_versions):
            piece = tuple(versions[start : start + max_versions])
            chunks.append(SweepChunk(index=len(chunks), product=product, targets=piece))
    return tuple(chunks)


Fallback = Callable[[VersionTarget, str], VersionSnapshot]


def collect(
    chunks: Iterable[SweepChunk],
    results: Mapping[int, ChunkResult | str],
    fallback: Fallback,
) -> tuple[list[VersionSnapshot], dict[str, str]]:
    """One snapshot per planned version, in plan order, and the error of each version that has one.

    `results[index]` is the chunk's result, or a one-line reason when its run gave none
    (then every version of the chunk gets that reason). A snapshot for a version the
    chunk did not plan is dropped; the first of two for the same version wins.
    `fallback(target, reason)` makes the snapshot of a version without one.
    """
    snapshots: list[VersionSnapshot] = []
    errors: dict[str, str] = {}
    for chunk in chunks:
        result = results.get(chunk.index, f"no result from the run of {chunk.name}")
        if isinstance(result, str):
            seen: dict[str, VersionSnapshot] = {}
            failed = dict.fromkeys((t.key for t in chunk.targets), result)
        else:
            seen = {}
            for snapshot in result.snapshots:
                seen.setdefault(snapshot.key, snapshot)
            failed = dict(result.errors)
        for target in chunk.targets:
            found = seen.get(target.key)
            if found is not None and target.key not in failed:
                snapshots.append(found)
                continue
            reason = failed.get(target.key, f"no result for {target.key} from {chunk.name}")
            errors[target.key] = reason
            snapshots.append(fallback(target, reason))
    return snapshots, errors
