"""SBOM generation: craflow against cyclonedx-py, and a synthetic 10,000-package lockfile.

Run: .venv/bin/python benchmarks/sbom_generate.py [PYTHON_OR_VENV]
Each measurement runs in a fresh subprocess; it prints wall time, CPU time (user + system,
steadier than wall time on a loaded machine) and peak RSS (MB), and for craflow the ratio of
the goal to the measured time (above 1.0 = within the goal): an environment in under 1 s,
a 10,000-package lockfile in under 5 s and 200 MB.
Both tools validate strictly (craflow: jsonschema-rs; cyclonedx-py: the library's validator).
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CYCLONEDX_PY = str(Path(sys.executable).parent / "cyclonedx-py")
CRAFLOW = str(Path(sys.executable).parent / "craflow")


LIMIT_SECONDS = 300.0
GOAL_ENV_SECONDS = 1.0
GOAL_10K_SECONDS = 5.0
GOAL_10K_MB = 200.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, argv: list[str], goal: float | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu_before = _cpu()
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, check=False, timeout=LIMIT_SECONDS
        )
    except subprocess.TimeoutExpired:
        print(f"{label:<44} over {LIMIT_SECONDS:.0f} s (stopped)")
        return LIMIT_SECONDS
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-200:]}"
    note = "" if peak > before else " (peak not above an earlier child)"
    ratio = f"  goal/time {goal / elapsed:4.1f} (cpu {goal / cpu:4.1f})" if goal else ""
    print(
        f"{label:<44} {elapsed:7.2f} s  cpu {cpu:6.2f} s  peak {peak / 1024:7.1f} MB{note}"
        f"{ratio}  {status}"
    )
    return elapsed


def synthetic_uv_lock(path: Path, count: int) -> None:
    lines = ["version = 1", 'requires-python = ">=3.11"', ""]
    for i in range(count):
        deps = f'dependencies = [{{ name = "pkg-{i - 1}" }}]\n' if i else ""
        lines.append(
            f'[[package]]\nname = "pkg-{i}"\nversion = "1.{i}.0"\n'
            f'source = {{ registry = "https://pypi.org/simple" }}\n{deps}'
            f'sdist = {{ url = "https://files.pythonhosted.org/p/pkg-{i}-1.{i}.0.tar.gz", '
            f'hash = "sha256:{i:064x}", size = 1 }}\n'
        )
    path.write_text("\n".join(lines))


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path(PYTHON).parent.parent)
    python = target if not Path(target).is_dir() else str(Path(target) / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print(f"environment: {target}")
        ours = measure(
            "craflow sbom generate --from env (validated)",
            [
                CRAFLOW,
                "sbom",
                "generate",
                "--from",
                "env",
                target,
                "-o",
                str(out / "ours.json"),
                "--product",
                "bench",
                "--version",
                "1",
            ],
            goal=GOAL_ENV_SECONDS,
        )
        theirs = measure(
            "cyclonedx-py environment (validated)",
            [CYCLONEDX_PY, "environment", python, "--validate", "-o", str(out / "theirs.json")],
        )
        print(f"ratio cyclonedx-py / craflow: {theirs / ours:.1f}x")
        lock = out / "uv.lock"
        synthetic_uv_lock(lock, 10_000)
        measure(
            "craflow, synthetic uv.lock, 10,000 packages",
            [
                CRAFLOW,
                "sbom",
                "generate",
                "--from",
                "uv-lock",
                str(lock),
                "-o",
                str(out / "big.json"),
                "--product",
                "bench",
                "--version",
                "1",
            ],
            goal=GOAL_10K_SECONDS,
        )
        measure(
            "craflow sbom check on that 10,000 SBOM",
            [CRAFLOW, "sbom", "check", str(out / "big.json"), "--json"],
        )
        print(f"memory goal for 10,000 packages: {GOAL_10K_MB:.0f} MB (peak above)")
        print(
            f"sizes: ours {os.path.getsize(out / 'ours.json')} B, "
            f"10k {os.path.getsize(out / 'big.json')} B"
        )


if __name__ == "__main__":
    main()
