"""craflow: EU Cyber Resilience Act evidence pipelines on Prefect."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("craflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
