"""Related past incidents suggested on declare, end to end (signed HTTP into the endpoint,
the stand-in answering Slack; the same tests on PostgreSQL when
DEBRIEF_TEST_DATABASE_URL is set): at most 3, ranked by shared services, tags and title
words, each with its channel and its postmortem's link; never the incident itself, a
private, cancelled or test incident; nothing posted when nothing is related; from the
slash command and the declare form."""

from __future__ import annotations

import re
from typing import Any

from freezegun import freeze_time

from bot.slack.ids import Block, Field
from bot.slack.replies import WORKER
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, declare, slash

HEADING = "Related past incidents"


def suggestions(stack: Stack, channel: str) -> list[str]:
    """The suggestion messages the bot posted in `channel`."""
    with stack.slack.lock:
        return [m.text for m in stack.slack.channels[channel].messages.values()
                if HEADING in (m.text or "")]


def listed(text: str) -> list[int]:
    """The incident numbers a suggestion lists, in order."""
    return [int(n) for n in re.findall(r"^• \*#(\d+)\*", text, flags=re.M)]


def wait_suggested(stack: Stack, channel: str) -> str:
    [text] = stack.slack.wait_for(lambda: suggestions(stack, channel) or None)
    return text


def _past(stack: Stack) -> dict[str, Any]:
    """#1 payments (service:payments; postmortem published), #2 checkout page (tag
    checkout; postmortem drafted), #3 deploy stuck, #4 private payments+checkout, #5
    cancelled, #6 a drill, #7 unrelated, #8 a deploy (newer than #3)."""
    with freeze_time("2026-01-10 10:00:00", tick=True):
        one = declare(stack, "declare sev1 Payments API latency service:payments")
        assert suggestions(stack, one.channel_id) == []  # the first: nothing to suggest
        slash(stack, "postmortem", channel=one.channel_id)
        deps = stack.runtime.deps
        with deps.uow() as tx:
            tx.postmortems.set_status(1, "published", deps.now())
            tx.commit()
        two = declare(stack, "declare sev2 Checkout page blank tag:checkout")
        slash(stack, "postmortem", channel=two.channel_id)
        declare(stack, "declare sev3 Deploy pipeline stuck")
        declare(stack, "declare --private sev1 Checkout payments deploy failed "
                       "service:payments tag:checkout")
        five = declare(stack, "declare sev2 Checkout payments deploy service:payments")
        slash(stack, "cancel declared by mistake", channel=five.channel_id)
        declare(stack, "declare --test sev2 Checkout payments deploy drill service:payments")
        declare(stack, "declare sev3 Disk full on search nodes")
    with freeze_time("2026-02-10 10:00:00", tick=True):
        # Slack sends a typed `<!here>` as `&lt;!here&gt;`: stored as the text `<!here>`.
        declare(stack, "declare sev3 Deploy of config broke login &lt;!here&gt;")
    return {"one": one, "two": two}


def test_suggests_at_most_three_ranked_with_links(stack: Stack) -> None:
    """A service counts most, then a tag, then each title word; ties newest first. The
    private (#4), cancelled (#5) and test (#6) ones are never suggested, nor unrelated
    ones (#7); the 4th related one (#3) is left out."""
    past = _past(stack)
    with freeze_time("2026-03-01 10:00:00", tick=True):
        new = declare(stack, "declare sev2 Checkout 502s after payments deploy "
                             "service:payments tag:checkout")
    text = wait_suggested(stack, new.channel_id)
    assert listed(text) == [1, 2, 8], text
    one, two = past["one"], past["two"]
    lines = text.splitlines()
    assert f"<#{one.channel_id}>" in lines[1] and f"/archives/{one.channel_id}/p" in lines[1]
    assert "|postmortem> (published)" in lines[1] and "shares `service:payments`" in lines[1]
    assert f"/archives/{two.channel_id}/p" in lines[2] and "(draft)" in lines[2]
    assert "shares `checkout`" in lines[2]
    assert "no postmortem yet" in lines[3]
    assert "&lt;!here&gt;" in lines[3] and "<!here>" not in text  # pings nobody
    # Declaring the same again: the new one is not its own suggestion.
    again = declare(stack, "declare sev2 Checkout 502s after payments deploy "
                           "service:payments tag:checkout")
    assert listed(wait_suggested(stack, again.channel_id)) == [new.number, 1, 2]


def test_nothing_related_posts_nothing(stack: Stack) -> None:
    """No shared tag or title word (stop words alone relate nothing): no message."""
    declare(stack, "declare sev2 Payments API latency service:payments")
    other = declare(stack, "declare sev3 Elevated errors on the login page")
    WORKER.drain()  # the declare's follow-up is done
    assert suggestions(stack, other.channel_id) == []


def test_private_incidents_are_never_suggested(stack: Stack) -> None:
    """Not even to a member of both, in a private channel: the channel's members may
    change. Public ones are suggested in a private channel too."""
    declare(stack, "declare --private sev1 Payroll export leaked service:payroll")
    public = declare(stack, "declare sev2 Payroll export slow service:payroll")
    WORKER.drain()
    assert suggestions(stack, public.channel_id) == []  # only the private one was related
    again = declare(stack, "declare --private sev1 Payroll export leaked again "
                           "service:payroll")
    text = wait_suggested(stack, again.channel_id)
    assert listed(text) == [public.number], text
    assert "leaked" not in text


def test_declare_form_suggests_too(stack: Stack) -> None:
    """Declared through the form (with its tags): the suggestion follows in the channel."""
    declare(stack, "declare sev2 Search cluster red service:elastic", user=ALICE)
    stack.client.slash("declare", user=BOB, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search is empty"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}},
        Block.TAGS: {Field.TAGS: {"type": "plain_text_input", "value": "service:Elastic"}},
    }
    assert stack.client.submit(view, values, user=BOB).status == 200
    incident = stack.slack.wait_for(lambda: (i := stack.incident(2)) and i.channel_id and i)
    assert incident.tags == ("service:elastic",) and incident.declared_by == BOB
    text = wait_suggested(stack, incident.channel_id)
    assert listed(text) == [1] and "shares `service:elastic`" in text
