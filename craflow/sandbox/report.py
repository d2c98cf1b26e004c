"""The compliance report of one SBOM, as HTML and as a real PDF (fpdf2)."""

from html import escape
from typing import Any


def _lines(
    status: dict[str, Any], sbom: dict[str, Any], vulns: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    summary = status["vulnerability_summary"]
    return [
        ("Product", f"{status['product']['name']} ({status['product']['slug']})"),
        ("Version", status["version"]["number"]),
        ("Release state", status["release_state"]),
        ("CRA status", status["cra_status"]),
        ("CRA floor", status["cra_floor_status"]),
        ("Release policy", status["release_policy_status"]),
        ("Scan state", status["scan_state"]),
        ("SBOM", f"{sbom['filename']} - {sbom['format']} {sbom['spec_version']}"),
        ("SBOM SHA-256", sbom["sha256"]),
        ("Components", str(sbom["component_count"])),
        ("Quality score", f"{sbom['quality_score']} / 100"),
        (
            "Open vulnerabilities",
            ", ".join(f"{k}: {summary[k]}" for k in ("critical", "high", "medium", "low"))
            + f" (total {summary['total']})",
        ),
        ("KEV-listed", str(status["kev_count"])),
        ("Missing for CRA", ", ".join(status["cra_missing_items"]) or "nothing"),
        ("Vulnerabilities listed", str(len(vulns))),
    ]


def render_html(status: dict[str, Any], sbom: dict[str, Any], vulns: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in _lines(status, sbom, vulns)
    )
    vuln_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(x))}</td>"
            for x in (
                v["vuln_id"],
                v["severity"],
                "yes" if v["kev"] else "no",
                f"{v['component']['name']} {v['component']['version']}",
                v["status"],
            )
        )
        + "</tr>"
        for v in vulns
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CRA compliance report</title>"
        "</head><body><h1>CRA compliance report</h1>"
        f"<table>{rows}</table><h2>Vulnerabilities</h2><table>"
        "<tr><th>ID</th><th>Severity</th><th>KEV</th><th>Component</th><th>Status</th></tr>"
        f"{vuln_rows}</table></body></html>"
    )


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(status: dict[str, Any], sbom: dict[str, Any], vulns: list[dict[str, Any]]) -> bytes:
    # imported here: fpdf costs about 1 s to import and only reports need it
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF()
    pdf.set_title("CRA compliance report")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "CRA compliance report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    for key, value in _lines(status, sbom, vulns):
        pdf.multi_cell(0, 6, _latin1(f"{key}: {value}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Vulnerabilities", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    for v in vulns:
        line = (
            f"{v['vuln_id']} [{v['severity']}{', KEV' if v['kev'] else ''}] "
            f"{v['component']['name']} {v['component']['version']} - {v['status']}"
        )
        pdf.multi_cell(0, 5, _latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
