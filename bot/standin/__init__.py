"""A local Slack stand-in: a stateful fake of the Web API over real HTTP, and a client
that sends requests signed exactly as Slack signs them. Used by `debrief demo` and by
the end-to-end tests; never by the bot itself."""
