"""Run by the *inspected* interpreter (not imported by craflow): prints its packages as JSON.

Standard library only, so it works in any Python >= 3.8 environment, even without pip.
"""

import json
import os
import platform
import sys
from importlib import metadata


def _dist(dist):  # type: ignore[no-untyped-def]
    meta = dist.metadata
    direct_url = None
    try:
        text = dist.read_text("direct_url.json")
        direct_url = json.loads(text) if text else None
    except (OSError, ValueError):
        direct_url = None
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "summary": meta["Summary"],
        "license": meta["License"],
        "license_expression": meta["License-Expression"],
        "classifiers": meta.get_all("Classifier") or [],
        "author": meta["Author"],
        "author_email": meta["Author-email"],
        "maintainer": meta["Maintainer"],
        "maintainer_email": meta["Maintainer-email"],
        "home_page": meta["Home-page"],
        "download_url": meta["Download-URL"],
        "project_urls": meta.get_all("Project-URL") or [],
        "requires": dist.requires or [],
        "direct_url": direct_url,
    }


def main() -> None:
    cwd = os.getcwd()
    path = [p for p in sys.path if p not in ("", cwd)]
    marker_env = {
        "implementation_name": sys.implementation.name,
        "implementation_version": platform.python_version(),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
    dists = [_dist(d) for d in metadata.distributions(path=path)]  # type: ignore[no-untyped-call]
    json.dump({"marker_env": marker_env, "distributions": dists}, sys.stdout)


main()
