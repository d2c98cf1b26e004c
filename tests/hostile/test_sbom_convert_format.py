"""Issue 12, item 15: `craflow sbom convert in.xml -o out.json` writes what the name says."""

from pathlib import Path

from typer.testing import CliRunner

from craflow.cli import app
from craflow.exitcodes import ExitCode
from craflow.sbom import read_sbom

XML = Path(__file__).resolve().parents[1] / "data" / "sboms" / "dropwizard-1.3.15__bom.xml"
runner = CliRunner()


def test_15_output_name_chooses_the_format(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["sbom", "convert", str(XML), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_sbom(out).encoding == "json"


def test_15_a_name_without_a_known_suffix_keeps_the_input_format(tmp_path: Path) -> None:
    out = tmp_path / "out.cdx"
    result = runner.invoke(app, ["sbom", "convert", str(XML), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_sbom(out).encoding == "xml"


def test_15_a_contradiction_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["sbom", "convert", str(XML), "-o", str(out), "--format", "xml"])
    assert result.exit_code == ExitCode.VALIDATION
    assert len(result.output.strip().splitlines()) == 1
    assert "contradicts" in result.output
    assert not out.exists()
