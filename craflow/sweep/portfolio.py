"""The portfolio table and the markdown summary a sweep publishes."""

import re
from collections.abc import Mapping, Sequence
from datetime import date

from craflow.sweep.delta import VersionDelta
from craflow.sweep.outcome import ProductFailure, failure_message, plural
from craflow.sweep.snapshot import VersionSnapshot, VulnerabilityHit

Row = dict[str, str | int]

NO_CHANGE = "no change"


def _ids(hits: Sequence[VulnerabilityHit]) -> str:
    return ", ".join(f"{h.vuln_id} ({h.component})" if h.component else h.vuln_id for h in hits)


def change_summary(delta: VersionDelta | None) -> str:
    """One short line: `"+2 new, -1 resolved, KEV +1, CRA ready → incomplete"`."""
    if delta is None:
        return NO_CHANGE
    if delta.scan_failure is not None:
        return f"scan failed: {delta.scan_failure}"
    parts: list[str] = []
    if delta.baseline:
        parts.append("first sweep")
    if delta.new:
        parts.append(f"+{len(delta.new)} new")
    if delta.resolved:
        parts.append(f"-{len(delta.resolved)} resolved")
    if delta.new_kev:
        parts.append(f"KEV +{len(delta.new_kev)}")
    if delta.cra_status is not None:
        parts.append(f"CRA {delta.cra_status.before} → {delta.cra_status.after}")
    return ", ".join(parts) if parts else NO_CHANGE


def change_lines(delta: VersionDelta) -> list[str]:
    """The detailed lines of one changed version, for the summary and the CLI."""
    head = f"{delta.product} {delta.version}"
    lines: list[str] = []
    if delta.scan_failure is not None:
        lines.append(f"{head}: scan failed: {delta.scan_failure}")
    if delta.new_kev:
        lines.append(f"{head}: new KEV entries: {_ids(delta.new_kev)}")
    if delta.new:
        lines.append(f"{head}: new vulnerabilities: {_ids(delta.new)}")
    if delta.resolved:
        lines.append(f"{head}: resolved: {_ids(delta.resolved)}")
    if delta.cra_status is not None:
        lines.append(f"{head}: CRA status {delta.cra_status.before} → {delta.cra_status.after}")
    return lines


def portfolio_rows(
    snapshots: Sequence[VersionSnapshot], deltas: Mapping[str, VersionDelta]
) -> list[Row]:
    """One row per version, sorted by product and version."""
    rows: list[Row] = []
    for snap in sorted(snapshots, key=lambda s: (s.product, s.version)):
        rows.append(
            {
                "product": snap.product,
                "version": snap.version,
                "state": snap.release_state or "",
                "cra_status": snap.cra_status or "",
                "critical": snap.counts.critical,
                "high": snap.counts.high,
                "medium": snap.counts.medium,
                "low": snap.counts.low,
                "kev": snap.kev_count,
                "change": change_summary(deltas.get(snap.key)),
            }
        )
    return rows


def _table(rows: Sequence[Row]) -> list[str]:
    if not rows:
        return ["_No versions in the selected states._"]
    headers = list(rows[0])
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [str(row[h]).replace("|", "\\|") for h in headers]
        out.append("| " + " | ".join(cells) + " |")
    return out


def sweep_run_name(
    day: date, products: Sequence[str] | None, states: Sequence[str], *, max_products: int = 3
) -> str:
    """The sweep run's name by date and scope: `sweep-2026-12-01-released`,
    `sweep-2026-12-01-shop-api-released-approved` (products first, then states)."""
    scope: list[str] = []
    if products:
        scope.extend(products[:max_products])
        if len(products) > max_products:
            scope.append(f"and-{len(products) - max_products}-more")
    scope.extend(states)
    words = [re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in scope]
    return "-".join(["sweep", day.isoformat(), *[w for w in words if w]])


def summary_markdown(
    *,
    run_id: str,
    rows: Sequence[Row],
    deltas: Sequence[VersionDelta],
    failures: Sequence[ProductFailure],
    products_total: int,
    max_change_lines: int,
    title: str | None = None,
) -> str:
    """The run's summary: changes first, then failures, then the portfolio table.

    The heading is *title* (the run's name, e.g. `sweep-2026-12-01-released`), never the
    run id alone.
    """
    changed = [d for d in deltas if d.changed]
    lines = [f"# Compliance sweep {title}" if title else "# Compliance sweep", ""]
    lines.append(
        f"{plural(products_total, 'product')}, {plural(len(rows), 'version')}, "
        f"{len(changed)} changed, {len(failures)} failed. Run id `{run_id}`."
    )
    lines += ["", "## Changes since the last sweep", ""]
    details = [line for d in changed for line in change_lines(d)]
    if not details:
        lines.append("_Nothing changed._")
    for line in details[:max_change_lines]:
        lines.append(f"- {line}")
    if len(details) > max_change_lines:
        lines.append(f"- … and {len(details) - max_change_lines} more (see the table)")
    if failures:
        lines += ["", "## Failed products", "", failure_message(failures, products_total)]
    lines += ["", "## Portfolio", "", *_table(rows)]
    return "\n".join(lines) + "\n"
