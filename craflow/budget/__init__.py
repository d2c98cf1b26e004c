"""One API rate budget shared by every process using the same API URL and key.

`RedisBudget` is a client `Pacer` (craflow/api/ratelimit.py) whose schedule lives in
Redis: a GCRA with no burst, advanced atomically by a Lua script, so N workers together
send at most the configured rate. `choose_pacer` picks it, or per-process pacing, from
settings. No Prefect here.
"""

from craflow.budget.choose import choose_pacer, fingerprint, pacer_for_run, under_worker
from craflow.budget.gcra import Adaptation, RedisBudget

__all__ = [
    "Adaptation",
    "RedisBudget",
    "choose_pacer",
    "fingerprint",
    "pacer_for_run",
    "under_worker",
]
