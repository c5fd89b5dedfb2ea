"""A local Slack stand-in for `debrief demo` and the end-to-end tests; never used by the
bot itself (the product's Slack adapter, bot/slack, does not import it).

`server.FakeSlack` is the entry point: a workspace (`state`) answering the Web API as
Slack does (`methods`, checked against Slack's method descriptions in `specs/`), held to
Slack's limits (`limits`), told by tests to misbehave (`faults`), served over real HTTP.
`client.SlackClient` sends the bot requests signed exactly as Slack signs them."""
