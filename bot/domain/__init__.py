"""Pure domain logic: no I/O, no Slack, no SQLAlchemy, no Jinja (see README.md)."""
