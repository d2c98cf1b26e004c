"""Thin Prefect tasks: one per API operation or unit of I/O.

- `tasks.client`: the one `CraEvidenceClient` of a flow run (per-run registry) and
  how the API key is resolved (environment, then a Prefect Secret block).
- `tasks.retry`: the retry condition (`retry_transient`) and retry options.
- `tasks.products`: find-or-create product and version, find the previous release.
- `tasks.sbom`: obtain an SBOM (read a file/URI or generate one) and score it.
- `tasks.upload`: upload an SBOM unless the same SHA-256 is already on the version.
- `tasks.scan`: trigger a scan, wait for CRA status to reach a terminal scan state.
- `tasks.vulnerabilities`: list a version's vulnerabilities, compare two versions.
- `tasks.promote`: walk a version to a release state; deprecate a predecessor.
- `tasks.export`: fetch the technical file and report, archive them with a manifest.
- `tasks.artifacts`, `tasks.events`: artifact keys and publishing, emitted events.
"""
