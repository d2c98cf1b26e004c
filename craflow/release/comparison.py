"""A version comparison as table rows and a markdown summary: the one place comparison
rows are written (`craflow compare`, the compare flow, the release flow's diff artifact)."""

from craflow.api.models import Comparison

Row = dict[str, str]


def comparison_rows(comparison: Comparison) -> list[Row]:
    """One row per change: components added, removed, changed; vulnerabilities new and fixed."""
    rows: list[Row] = []
    changes = comparison.changes
    for c in changes.added:
        rows.append(_row("component added", c.name, "", c.version, c.purl))
    for c in changes.removed:
        rows.append(_row("component removed", c.name, c.version, "", c.purl))
    for m in changes.modified:
        rows.append(_row("component changed", m.name, m.old_version, m.new_version, m.purl))
    diff = comparison.vulnerability_diff
    for vid in diff.new_ids:
        rows.append(_row("vulnerability new", vid, "", "open", None))
    for vid in diff.fixed_ids:
        rows.append(_row("vulnerability fixed", vid, "open", "fixed", None))
    return rows


def _row(
    change: str, name: str | None, before: str | None, after: str | None, purl: str | None
) -> Row:
    return {
        "change": change,
        "name": name or "",
        "before": before or "",
        "after": after or "",
        "purl": purl or "",
    }


def comparison_markdown(comparison: Comparison, *, product: str, base: str, target: str) -> str:
    """Totals first, then every change as a table."""
    s = comparison.summary
    d = comparison.vulnerability_diff
    lines = [
        f"# {product}: {base} → {target}",
        "",
        f"Components: {s.added} added, {s.removed} removed, {s.modified} changed, "
        f"{s.unchanged} unchanged.",
        f"Vulnerabilities: {d.new} new, {d.fixed} fixed.",
        "",
    ]
    rows = comparison_rows(comparison)
    if not rows:
        lines.append("_No differences._")
    else:
        lines += ["| change | name | before | after |", "|---|---|---|---|"]
        lines += [f"| {r['change']} | {r['name']} | {r['before']} | {r['after']} |" for r in rows]
    return "\n".join(lines) + "\n"
