"""A `Bom` whose components and dependency graph craflow prepared as CycloneDX JSON data.

Why: cyclonedx-python-lib keeps components in sorted sets compared field by field, and its
JSON serialiser walks every property through reflection; for 10,000 packages that model
alone costs more than 10 s and 500 MB. The builder therefore writes each component once,
as the JSON object the schema describes, and `craflow.sbom.writer` serialises that data
directly. The library model is still there for anyone who asks: the first access to
`components` or `dependencies` turns the prepared data into library objects
(`Component.from_json`), and from then on the library path is used.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component
from cyclonedx.model.dependency import Dependency
from sortedcontainers import SortedSet  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from uuid import UUID

JsonObject = dict[str, Any]


class PreparedBom(Bom):
    """A library `Bom` that holds its components as prepared JSON until someone asks.

    `prepared_components` / `prepared_dependencies` are the JSON arrays (spec 1.6 shape);
    they are `None` once the library model has been built (`materialized`).
    """

    def __init__(
        self,
        *,
        serial_number: "UUID",
        metadata: BomMetaData,
        components: list[JsonObject],
        dependencies: list[JsonObject],
    ) -> None:
        super().__init__(serial_number=serial_number, metadata=metadata)
        self._prepared: tuple[list[JsonObject], list[JsonObject]] | None = (
            components,
            dependencies,
        )

    @property
    def materialized(self) -> bool:
        """True once the library model holds the components (prepared data dropped)."""
        return getattr(self, "_prepared", None) is None

    @property
    def prepared_components(self) -> list[JsonObject] | None:
        prepared = getattr(self, "_prepared", None)
        return prepared[0] if prepared else None

    @property
    def prepared_dependencies(self) -> list[JsonObject] | None:
        prepared = getattr(self, "_prepared", None)
        return prepared[1] if prepared else None

    def component_count(self) -> int:
        """How many top-level components, without building the library model."""
        prepared = self.prepared_components
        return len(prepared) if prepared is not None else len(self._components)

    def _materialize(self) -> None:
        prepared = getattr(self, "_prepared", None)
        if prepared is None:
            return
        self._prepared = None
        components, dependencies = prepared
        self._components = SortedSet(
            Component.from_json(data)  # type: ignore[attr-defined]
            for data in components
        )
        self._dependencies = SortedSet(
            Dependency(
                ref=BomRef(entry["ref"]),
                dependencies=[Dependency(ref=BomRef(ref)) for ref in entry.get("dependsOn", ())],
            )
            for entry in dependencies
        )

    def library_bom(self) -> Bom:
        """A plain library `Bom` with the same parts (the library serialises only `Bom` itself)."""
        self._materialize()
        return Bom(
            serial_number=self.serial_number,
            version=self.version,
            metadata=self.metadata,
            components=self._components,
            services=self.services,
            external_references=self.external_references,
            dependencies=self._dependencies,
            vulnerabilities=self.vulnerabilities,
            properties=self.properties,
            definitions=self.definitions,
        )

    @property
    def components(self) -> "SortedSet[Component]":
        self._materialize()
        return self._components

    @components.setter
    def components(self, components: Iterable[Component]) -> None:
        self._materialize()
        self._components = SortedSet(components)

    @property
    def dependencies(self) -> "SortedSet[Dependency]":
        self._materialize()
        return self._dependencies

    @dependencies.setter
    def dependencies(self, dependencies: Iterable[Dependency]) -> None:
        self._materialize()
        self._dependencies = SortedSet(dependencies)


def component_count(bom: Bom) -> int:
    """The number of top-level components of `bom`, cheap for a `PreparedBom`."""
    return bom.component_count() if isinstance(bom, PreparedBom) else len(bom.components)
