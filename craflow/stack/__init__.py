"""The production-shaped Prefect stack: servers on PostgreSQL, services, Redis, workers.

`up` starts it (one process per role, PIDs in the run directory; a loopback balancer in
front of several API servers), `down` stops exactly what `up` started, `status` reports
it, `restart` starts a stopped process of it again as `up` did. Nothing here imports
Prefect: the stack runs Prefect's own CLI in child processes.
"""

from craflow.stack.control import StackError, down, status, up
from craflow.stack.restart import restart
from craflow.stack.state import ProcessRecord, StackState

__all__ = ["ProcessRecord", "StackError", "StackState", "down", "restart", "status", "up"]
