"""Moved: the one poll primitive lives in `craflow.api.polling` (re-exported here)."""

from craflow.api.polling import PollResult, PollSchedule, poll_until

__all__ = ["PollResult", "PollSchedule", "poll_until"]
