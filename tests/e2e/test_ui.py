"""The Prefect UI tells the compliance story: checked in headless Chromium (issue 15).

A real `prefect server start` with its UI, the sandbox and a loopback S3 endpoint; a
blocked (1.0.0) and a released (1.1.0) `craflow release` run against them; then the
pages a person monitoring compliance opens: the run list, a run's logs, its artifacts
and the event feed, including what phase 2 of issue 15 added: named states, the run's
story in its logs, one evidence table with HTTPS links, versioned events.

Skips with the reason when Playwright or Chromium is absent (see tests/e2e/browser.py).
"""

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from craflow.demo.prefect_server import PrefectServer, isolated_prefect_env, running_prefect_server
from craflow.demo.sample import CLEAN_REQUIREMENTS, VULNERABLE_REQUIREMENTS, write_sample
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from craflow.sbom import generate_sbom, write_sbom
from tests.e2e.browser import browser_missing, chromium_context
from tests.e2e.conftest import CRAFLOW, run_command

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

_MISSING = browser_missing()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(900),
    pytest.mark.skipif(_MISSING is not None, reason=f"browser test: {_MISSING}"),
]

PRODUCT = "ui-webshop"
BLOCKED, RELEASED = "1.0.0", "1.1.0"
BUCKET = "craflow-ui-evidence"
WAIT_MS = 30_000


@dataclass(frozen=True)
class Story:
    """The UI server and the two finished release runs (flow run ids by version)."""

    server: PrefectServer
    runs: dict[str, str]
    ui_base: str

    def url(self, path: str) -> str:
        """*path* in the UI the server opens by default (`/v2/...` on Prefect 3.9)."""
        return f"{self.server.ui_url}{self.ui_base}{path}"


def _default_ui_base(server: PrefectServer) -> str:
    settings: dict[str, Any] = httpx.get(f"{server.ui_url}/ui-settings", timeout=30).json()
    base = settings.get(f"{settings.get('default_ui', 'v1')}_base_url") or "/"
    return str(base).rstrip("/")


def _sbom(folder: Path, version: str, requirements: str) -> Path:
    source = write_sample(folder / "sample", version, requirements)
    bom = generate_sbom(
        "requirements", str(source), product=PRODUCT, version=version, reproducible=True
    )
    return write_sbom(bom, folder / f"{PRODUCT}-{version}.cdx.json")


def _run_id(api_url: str, name: str) -> str:
    response = httpx.post(
        f"{api_url}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [name]}}},
        timeout=30,
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    assert len(runs) == 1, runs
    return str(runs[0]["id"])


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, local_s3: LocalS3) -> Iterator[Story]:
    """A UI server after a blocked and a released `craflow release` run."""
    folder = tmp_path_factory.mktemp("ui")
    boto3.session.Session().client(
        "s3",
        endpoint_url=local_s3.endpoint_url,
        region_name=local_s3.region,
        aws_access_key_id=local_s3.access_key,
        aws_secret_access_key=local_s3.secret_key,
    ).create_bucket(Bucket=BUCKET)
    with (
        running_prefect_server(home=folder / "server", ui=True) as server,
        start_sandbox(host="127.0.0.1", scan_seconds=0.3) as sandbox,
    ):
        env = _release_env(folder, server, sandbox, local_s3)
        runs: dict[str, str] = {}
        for version, requirements, expected_exit in (
            (BLOCKED, VULNERABLE_REQUIREMENTS, 11),
            (RELEASED, CLEAN_REQUIREMENTS, 0),
        ):
            sbom = _sbom(folder, version, requirements)
            release = [*CRAFLOW, "release", "--product", PRODUCT, "--version", version]
            result = run_command([*release, "--sbom", str(sbom), "--fail-on", "high"], env)
            assert result.returncode == expected_exit, result.stdout + result.stderr
            runs[version] = _run_id(server.api_url, f"release-{PRODUCT}-{version}")
        yield Story(server=server, runs=runs, ui_base=_default_ui_base(server))


def _release_env(
    folder: Path, server: PrefectServer, sandbox: RunningSandbox, s3: LocalS3
) -> dict[str, str]:
    env = isolated_prefect_env(folder / "client-home", os.environ)
    env = {k: v for k, v in env.items() if not k.startswith("CRA_EVIDENCE_")}
    env.update(boto3_session_env(s3))
    env.update(
        {
            "PREFECT_API_URL": server.api_url,
            "CRA_EVIDENCE_URL": sandbox.url,
            "CRA_EVIDENCE_API_KEY": sandbox.api_key,
            "CRAFLOW_EVIDENCE_DESTINATION": f"s3://{BUCKET}/evidence",
            "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": "0.2",
            "CRAFLOW_RELEASE_POLL_CAP_SECONDS": "1.0",
        }
    )
    return env


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator["BrowserContext"]:
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        context.set_default_timeout(WAIT_MS)
        yield context


@pytest.fixture
def page(browser: "BrowserContext") -> Iterator["Page"]:
    opened = browser.new_page()
    try:
        yield opened
    finally:
        opened.close()


def _run_row(page: "Page", story: Story, version: str) -> str:
    page.goto(story.url("/runs"))
    name = f"release-{PRODUCT}-{version}"
    page.get_by_text(name, exact=True).first.wait_for()
    # a run row says "1 Parameter" (singular) for the release flow's one `request`
    parameters = re.compile(r"\d+ Parameters?")
    row = page.locator("div, li, tr").filter(has_text=name).filter(has_text=parameters).last
    return row.inner_text()


def _open_artifact(page: "Page", story: Story, key: str) -> None:
    """Open the page of the newest artifact with *key* (fails when there is none)."""
    response = httpx.post(
        f"{story.server.api_url}/artifacts/filter",
        json={"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC"},
        timeout=30,
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    assert found, f"no artifact with key {key}"
    page.goto(story.url(f"/artifacts/artifact/{found[0]['id']}"))


def _logs(page: "Page", story: Story, version: str) -> str:
    """The text of a run's Logs tab, oldest first and then newest first: the list is
    virtualised (only rows near the view are rendered), so one view shows about 20 lines
    and the two ends together the whole story of a release."""
    page.goto(story.url(f"/runs/flow-run/{story.runs[version]}?tab=Logs"))
    page.get_by_text(re.compile(r"Finished in state|did not produce any logs")).first.wait_for()
    oldest_first = page.locator("body").inner_text()
    if "did not produce any logs" in oldest_first:
        return oldest_first
    page.get_by_label("log sort order").click()
    page.get_by_role("option", name="Newest to oldest").click()
    page.get_by_label("log sort order").filter(has_text="Newest to oldest").wait_for()
    page.wait_for_load_state("networkidle")
    return oldest_first + "\n" + page.locator("body").inner_text()


def _wait_for_events(story: Story, names: list[str]) -> None:
    """Until the server has persisted an event of every name (it writes them in batches)."""
    deadline = time.monotonic() + 2 * WAIT_MS / 1000
    while True:
        response = httpx.post(
            f"{story.server.api_url}/events/filter",
            json={"filter": {"event": {"name": names}}, "limit": 50},
            timeout=30,
        )
        response.raise_for_status()
        seen = {event["event"] for event in response.json()["events"]}
        if seen >= set(names) or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def _event_cards(page: "Page", story: Story, names: list[str]) -> list[str]:
    """The event feed filtered to *names*, one text per event card (newest first).

    Waits for the events at the API first; the feed loads after its filters (which name
    the events too) and a cold page can stay empty: reload until a card of every name is
    there, or twice WAIT_MS.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _wait_for_events(story, names)
    quoted = ",".join(f'"{name}"' for name in names)
    deadline = time.monotonic() + 2 * WAIT_MS / 1000
    cards: list[str] = []
    while time.monotonic() < deadline:
        page.goto(story.url(f"/events?events=[{quoted}]"))
        try:
            page.get_by_text("Show raw event").first.wait_for(timeout=WAIT_MS / 2)
        except PlaywrightTimeout:
            continue
        body = page.locator("body").inner_text()
        feed = body.split("\nPast day\n", 1)[-1]  # past the filters
        cards = [card for card in feed.split("Show raw event") if any(n in card for n in names)]
        if all(any(n in c for c in cards) for n in names):
            break
    return cards


# --- what works today -----------------------------------------------------------------


def test_the_ui_talks_to_its_own_port(story: Story) -> None:
    settings = httpx.get(f"{story.server.ui_url}/ui-settings", timeout=30).json()
    assert settings["api_url"] == story.server.api_url


def test_the_run_list_shows_the_blocked_and_the_released_run(page: "Page", story: Story) -> None:
    blocked = _run_row(page, story, BLOCKED)
    released = _run_row(page, story, RELEASED)
    assert f"product:{PRODUCT}" in blocked
    assert f"version:{BLOCKED}" in blocked
    assert "Blocked" in blocked
    assert "Completed" in released


def test_the_run_page_shows_the_runs_logs(page: "Page", story: Story) -> None:
    logs = _logs(page, story, BLOCKED)
    assert "did not produce any logs" not in logs
    assert "Finished in state" in logs


def test_the_gate_artifact_renders_as_a_table(page: "Page", story: Story) -> None:
    _open_artifact(page, story, f"release-{PRODUCT}-1-0-0-gate")
    table = page.locator("table").first
    table.wait_for()
    assert "vulnerability" in table.locator("thead, tr").first.inner_text()
    assert "PYSEC-2023-192" in table.inner_text()


def test_the_summary_artifact_renders_its_facts_as_a_table(page: "Page", story: Story) -> None:
    _open_artifact(page, story, f"release-{PRODUCT}-1-1-0-summary")
    page.get_by_text(f"Release {PRODUCT} {RELEASED}").first.wait_for()
    cells = page.locator("table td").all_inner_texts()
    assert any("released" in cell for cell in cells), cells


def test_the_event_feed_shows_the_craflow_release_events(page: "Page", story: Story) -> None:
    cards = _event_cards(page, story, ["craflow.release.blocked", "craflow.release.completed"])
    blocked = [c for c in cards if "craflow.release.blocked" in c]
    completed = [c for c in cards if "craflow.release.completed" in c]
    assert len(blocked) == 1, cards
    assert len(completed) == 1, cards
    assert PRODUCT in blocked[0]


# --- phase 2 of issue 15: named states, the run's story, evidence links, versioned events


def test_the_run_list_names_the_blocked_state(page: "Page", story: Story) -> None:
    assert "Blocked" in _run_row(page, story, BLOCKED)


def test_the_run_page_logs_the_gate_verdict(page: "Page", story: Story) -> None:
    logs = _logs(page, story, BLOCKED)
    assert re.search(r"gate.*blocked", logs, re.IGNORECASE), logs
    assert "PYSEC-2023-192" in logs


def test_the_run_page_logs_the_archive_location(page: "Page", story: Story) -> None:
    logs = _logs(page, story, RELEASED)
    assert re.search(rf"archive.*s3://{BUCKET}/evidence/{PRODUCT}/{RELEASED}/", logs), logs


def test_the_evidence_table_links_over_https(page: "Page", story: Story) -> None:
    _open_artifact(page, story, f"release-{PRODUCT}-1-1-0-evidence")
    page.locator("table a").first.wait_for()  # the markdown renders after the page
    links = page.locator("table a").evaluate_all("els => els.map(e => e.href)")
    assert links, "the evidence table has no links"
    assert all(str(link).startswith("https://") for link in links), links


def test_the_event_feed_shows_the_version_of_each_release_event(page: "Page", story: Story) -> None:
    cards = _event_cards(page, story, ["craflow.release.blocked"])
    assert cards, "no craflow.release.blocked event in the feed"
    # The flow run's name contains the version too: look past it.
    text = cards[0].replace(f"release-{PRODUCT}-{BLOCKED}", "")
    assert BLOCKED in text, cards[0]
