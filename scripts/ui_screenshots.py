"""Regenerate the screenshots in docs/ui/ (used by docs/ui.md) from a real `craflow demo --ui`.

    PYTHONPATH=. python scripts/ui_screenshots.py [--out docs/ui]

Runs the demo with its UI on a free loopback port, opens the main pages in headless
Chromium (tests/e2e/browser.py: Debian's chromium, driven by Playwright), writes one PNG
per page (reduced to a 256-colour palette to keep the repository small), and stops the
Prefect server the demo left running. Takes about two minutes.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from craflow.demo.prefect_server import free_port  # noqa: E402
from tests.e2e.browser import browser_missing, chromium_context  # noqa: E402

PRODUCT = "demo-webshop"


def run_demo(workdir: Path, port: int) -> tuple[str, int]:
    """Run `craflow demo --ui-port PORT`; returns the UI's URL and the server's pid."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "craflow.cli", "demo", "--ui-port", str(port)]
    result = subprocess.run(  # noqa: S603 - our own interpreter and command
        [*command, "--workdir", str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(result.stdout)
    match = re.search(r"UI (http://\S+) \(still running, pid (\d+)", result.stdout)
    if not match:
        raise SystemExit(f"the demo left no UI running:\n{result.stderr[-2000:]}")
    if result.returncode != 0:
        os.killpg(int(match.group(2)), signal.SIGTERM)
        raise SystemExit(f"the demo failed (exit {result.returncode})")
    return match.group(1), int(match.group(2))


def _first(api: str, path: str, body: dict[str, Any]) -> str:
    found: list[dict[str, Any]] = httpx.post(f"{api}{path}", json=body, timeout=30).json()
    return str(found[0]["id"])


def pages(ui: str) -> dict[str, tuple[str, str]]:
    """Screenshot name -> (URL, text the loaded page shows), on the server's default UI."""
    settings: dict[str, Any] = httpx.get(f"{ui}/ui-settings", timeout=30).json()
    base = ui + str(settings.get(f"{settings.get('default_ui', 'v1')}_base_url", "/")).rstrip("/")
    api = f"{ui}/api"
    blocked, released = f"release-{PRODUCT}-1.0.0", f"release-{PRODUCT}-1.1.0"

    def run(name: str, tab: str) -> str:
        found = _first(api, "/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}})
        return f"{base}/runs/flow-run/{found}?tab={tab}"

    def artifact(suffix: str) -> str:
        key = f"release-{PRODUCT}-{suffix}"
        found = _first(api, "/artifacts/filter", {"artifacts": {"key": {"any_": [key]}}})
        return f"{base}/artifacts/artifact/{found}"

    events = '["craflow.release.blocked","craflow.release.completed","craflow.version.changed"]'
    return {
        "dashboard": (f"{base}/dashboard", "Flow Runs"),
        "runs": (f"{base}/runs", blocked),
        "run-blocked": (run(blocked, "Details"), "Flow Run ID"),
        "run-released-logs": (run(released, "Logs"), "Finished in state"),
        "run-released-artifacts": (run(released, "Artifacts"), f"release-{PRODUCT}-1-1-0-gate"),
        "artifact-summary": (artifact("1-0-0-summary"), "SBOM quality score"),
        "artifact-gate": (artifact("1-0-0-gate"), "PYSEC-2023-192"),
        "artifacts": (f"{base}/artifacts", "artifacts"),
        "events": (f"{base}/events?events={events}", "Related Resources"),
        "deployments": (f"{base}/deployments", "nightly-sweep"),
        "blocks": (f"{base}/blocks", "craflow-api-key"),
    }


def shoot(targets: dict[str, tuple[str, str]], out: Path) -> None:
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    with chromium_context() as context:
        page = context.new_page()
        page.set_default_timeout(120_000)
        for name, (url, ready) in targets.items():
            page.goto(url)
            page.get_by_text(ready).first.wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1_500)
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            with Image.open(target) as image:
                image.convert("RGB").quantize(colors=256).save(target, optimize=True)
            print(f"{target} ({target.stat().st_size // 1024} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ui")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        raise SystemExit(f"cannot take screenshots: {missing}")
    with tempfile.TemporaryDirectory(prefix="craflow-ui-shots-") as folder:
        ui, pid = run_demo(Path(folder), free_port())
        try:
            shoot(pages(ui), args.out)
        finally:
            os.killpg(pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
