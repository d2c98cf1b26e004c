"""Release domain logic, free of Prefect: gate, CI identity, polling, state walk, outcome.

The tasks and the release flow (`tasks/`, `flows/release.py`) call these pure
functions; every one of them is table-tested in `tests/unit/release/`.
"""
