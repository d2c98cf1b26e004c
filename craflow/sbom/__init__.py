"""Build, read, enrich, validate and score SBOMs (CycloneDX via cyclonedx-python-lib; SPDX read).

No Prefect here: flows call these plain functions.
"""

from craflow.sbom.builder import Creator, Product
from craflow.sbom.document import ComponentView, DocumentFacts, SbomDocument
from craflow.sbom.errors import (
    SbomError,
    SbomFileNotFoundError,
    SbomFormatError,
    SbomSourceError,
    SbomTooLargeError,
    SbomValidationError,
)
from craflow.sbom.generate import SOURCES, convert_sbom, generate_sbom
from craflow.sbom.quality import ElementCoverage, QualityReport, check_quality, score_document
from craflow.sbom.reader import read_sbom
from craflow.sbom.writer import serialize, write_sbom

__all__ = [
    "SOURCES",
    "ComponentView",
    "Creator",
    "DocumentFacts",
    "ElementCoverage",
    "Product",
    "QualityReport",
    "SbomDocument",
    "SbomError",
    "SbomFileNotFoundError",
    "SbomFormatError",
    "SbomSourceError",
    "SbomTooLargeError",
    "SbomValidationError",
    "check_quality",
    "convert_sbom",
    "generate_sbom",
    "read_sbom",
    "score_document",
    "serialize",
    "write_sbom",
]
