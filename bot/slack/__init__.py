"""The thin Slack adapter: Bolt listeners, Block Kit builders, the Web API gateway."""
