from tests.fixtures.events import recorded_events

__all__ = ["recorded_events"]
