"""Prefect flows: order, concurrency, artifacts and events.

- `flows.release.release_flow`: SBOM → upload once → scan → gate → promote → archive.
- `flows.sweep.sweep_flow`, `flows.compare.compare_flow`, `flows.export.export_flow`.

Import the module you need; importing this package imports nothing heavy.
"""
