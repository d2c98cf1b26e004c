"""The `craflow demo`: sample product files, a local Prefect server and the demo run."""
