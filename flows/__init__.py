"""Prefect flows: order, concurrency, artifacts and events.

- `flows.release.release_flow`: SBOM → upload once → scan → gate → promote → archive.
- `flows.sweep.sweep_flow`, `flows.compare.compare_flow`, `flows.export.export_flow`.

Import the module you need; importing this package imports nothing heavy, except in a
`craflow` process on Prefect's ephemeral API, where it first pins that server's port
(`craflow.prefect_runtime.pin_ephemeral_port`; the server is needed next anyway).
"""

from craflow.prefect_runtime import pin_ephemeral_port

pin_ephemeral_port()
