"""Debrief: incident management and blameless postmortems, run from Slack."""

__version__ = "0.1.0"
