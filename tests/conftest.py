"""Test-wide set-up: an isolated Prefect home, and the shared fixture plugins.

`PREFECT_HOME` is set before anything imports Prefect, so persisted results,
transaction records and the harness database never leak between runs or into
the developer's own Prefect home.
"""

import os
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix="craflow-test-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_API_URL", "")
os.environ.pop("PREFECT_API_KEY", None)
os.environ.setdefault("DO_NOT_TRACK", "1")

pytest_plugins = [
    "tests.fixtures.prefect",
    "tests.fixtures.sandbox",
    "tests.fixtures.s3",
    "tests.fixtures.events",
]
