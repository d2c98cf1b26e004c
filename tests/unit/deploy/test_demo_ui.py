"""`craflow demo --ui`: the port is checked first (as the server binds it), the UI finds its API,
and the report counts in words a person reads (issue 15, items 1 and 8)."""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.demo.environment import ArchiveCopy
from craflow.demo.prefect_server import port_available, server_env
from craflow.demo.report import Places, archive_copy_line, sweep_line, verification_line
from craflow.evidence.manifest import Manifest
from craflow.evidence.verify import VerificationResult
from craflow.sweep import SweepOutcome


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_a_listening_port_is_not_available(busy_port: int) -> None:
    assert port_available("127.0.0.1", busy_port) is False


def test_a_port_whose_last_server_just_stopped_is_available() -> None:
    """TIME_WAIT connections stay behind a stopped server; uvicorn binds with SO_REUSEADDR."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its end lingers in TIME_WAIT
        client.close()
    assert port_available("127.0.0.1", port) is True


def test_the_servers_ui_is_pointed_at_its_own_port(tmp_path: Path) -> None:
    env = server_env(
        home=tmp_path,
        host="127.0.0.1",
        port=4310,
        base={"PREFECT_API_URL": "https://elsewhere/api", "PREFECT_UI_API_URL": "http://x/api"},
    )
    assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4310/api"
    assert "PREFECT_API_URL" not in env


def test_a_busy_ui_port_stops_the_demo_before_anything_starts(
    busy_port: int, tmp_path: Path
) -> None:
    workdir = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--ui-port", str(busy_port), "--workdir", str(workdir)]
    )
    assert result.exit_code == 6
    assert f"127.0.0.1:{busy_port} is in use" in result.output
    assert result.output.count("\n") == 1
    assert not workdir.exists()


def test_the_ui_port_variable_is_checked_too(
    busy_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFLOW_PREFECT_SERVER_UI_PORT", str(busy_port))
    result = CliRunner().invoke(app, ["demo", "--ui", "--workdir", str(tmp_path / "d")])
    assert result.exit_code == 6
    assert str(busy_port) in result.output


def test_an_impossible_ui_port_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--ui-port", "70000", "--workdir", str(tmp_path)])
    assert result.exit_code == 2
    assert "ui_port" in result.output
    assert result.output.count("\n") == 1


def test_demo_help_has_examples() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"], terminal_width=120)
    assert result.exit_code == 0
    assert "craflow demo --ui --ui-port 4310" in result.output


def test_sandbox_help_has_examples() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--help"], terminal_width=120)
    assert result.exit_code == 0
    assert "craflow sandbox --port 0" in result.output


def test_the_sweep_line_counts_in_singular_and_plural() -> None:
    one = SweepOutcome(run_id="r", products_total=1, versions_total=1)
    many = SweepOutcome(run_id="r", products_total=3, versions_total=7, versions_changed=2)
    assert sweep_line(one) == "sweep: 1 product, 1 version swept; 0 changed, 0 new KEV entries"
    assert sweep_line(many).startswith("sweep: 3 products, 7 versions swept; 2 changed")


def test_the_archive_lines_explain_their_counts(tmp_path: Path) -> None:
    run = "s3://b/evidence/p/1.1.0/20261201T000000Z-x/"
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    manifest = Manifest("p", "1.1.0", "x", run, moment, moment, objects=())
    result = VerificationResult(run_uri=run, manifest=manifest, checked=6, mismatches=())
    assert verification_line(result) == (
        f"archive: {run} verified: the 6 objects its manifest.json lists match their sizes "
        "and SHA-256 checksums"
    )
    places = Places(
        workdir=tmp_path,
        sandbox_url="http://127.0.0.1:1",
        s3_url="http://127.0.0.1:2",
        archive_uri="s3://b/evidence",
        archive_copy=tmp_path / "archive",
        archive=ArchiveCopy(objects=13, places=(("p/1.0.0", 5), ("p/1.1.0", 7), ("sweeps", 1))),
        prefect=[],
    )
    line = archive_copy_line(places)
    assert f"copied to {tmp_path / 'archive'}: 13 objects (p/1.0.0 5, p/1.1.0 7, sweeps 1;" in line
    assert "manifest.json" in line
