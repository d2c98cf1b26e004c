"""The `craflow` sub-commands, one module per command group.

Each module exposes `register(app)`; `craflow.cli` composes them. Modules keep
heavy imports (Prefect, boto3, FastAPI) inside the command functions so that
`craflow --help` stays fast.
"""
