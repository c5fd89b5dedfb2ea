"""Use cases. Each receives its ports (unit of work, chat) and `now` as arguments."""
