"""SQL statements per request, through the signed HTTP endpoint: a declare costs at most
10 statements and a change at most 6, however many changes the incident already had
(the incident row and its collections are read once per request, not once per step).
A change is 5 plus, when it restarts a nudge clock (an update, a status or severity
change, a new commander, resolving), the one upsert that says when its nudges are next
due (bot/services/nudges.py).
The related-incident suggestion that follows a declare has its own budget of 10."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services import related
from bot.slack.ids import Action
from bot.slack.replies import WORKER
from tests.conftest import Stack
from tests.helpers import BOB, CAROL, StatementCount, declare, join, slash

DECLARE_BUDGET = 10
RELATED_BUDGET = 10
CHANGE_BUDGET = 6
# Resolving (and retitling) also brings the incident's attached alert groups along: one
# UPDATE by the indexed alert_groups.incident_number, so their messages stop saying
# escalation is paused (issue 15).
RESOLVE_BUDGET = CHANGE_BUDGET + 1


def test_declare_stays_within_its_statement_budget(stack: Stack,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The first declare (which also creates the number counter) and later ones; the
    related-incident suggestion after each declare is counted apart (on its own thread,
    by wrapping the service function) and held to its own budget, with 3 suggested."""
    suggested: list[StatementCount] = []
    find_related = related.related_incidents

    def counted(incident: Any, **kwargs: Any) -> Any:
        with StatementCount(stack.runtime.engine, this_thread=True) as count:
            found = find_related(incident, **kwargs)
        count.statements.append(f"-- {len(found)} suggested")
        suggested.append(count)
        return found

    monkeypatch.setattr(related, "related_incidents", counted)
    for number in range(1, 6):
        with StatementCount(stack.runtime.engine) as count:
            reply = slash(stack, f"declare sev2 Checkout errors {number} service:checkout")
            WORKER.drain()
        assert f"Declared incident *#{number}*" in reply, reply
        follow_up = suggested[-1]
        declaring = len(count) - (len(follow_up) - 1)
        assert declaring <= DECLARE_BUDGET, f"{declaring} statements:\n{count}"
        assert len(follow_up) - 1 <= RELATED_BUDGET, f"{follow_up}"
    assert suggested[-1].statements[-1] == "-- 3 suggested"
    incident = stack.incident(5)
    assert incident.card_ts and incident.announce_ts and incident.channel_id
    assert any("Related past incidents" in (m.text or "")
               for m in stack.slack.channels[incident.channel_id].messages.values())


CHANGES = [
    "ack",
    "status identified bad deploy",
    "severity SEV1",
    f"role comms <@{CAROL}|carol>",
    f"role comms <@{BOB}|bob>",
    "update rolling back v42",
    "status monitoring",
    "resolve rolled back",
]


@pytest.mark.parametrize("by_number", [False, True], ids=["in-channel", "by-number"])
def test_each_change_stays_within_its_statement_budget(stack: Stack, by_number: bool) -> None:
    """Every kind of change, run in the incident's channel or naming `#1` from elsewhere."""
    incident = declare(stack)
    WORKER.drain()  # the declare's follow-up (related incidents) is not the change's
    channel = stack.general if by_number else incident.channel_id
    for command in CHANGES:
        text = command.replace(" ", " #1 ", 1) if by_number and " " in command \
            else f"{command} #1" if by_number else command
        with StatementCount(stack.runtime.engine) as count:
            reply = slash(stack, text, channel=channel)
            WORKER.drain()
        assert "*#1*" in reply and "retry" not in reply, (text, reply)  # done, not refused
        budget = RESOLVE_BUDGET if command.startswith("resolve") else CHANGE_BUDGET
        assert len(count) <= budget, f"{text}: {len(count)} statements:\n{count}"
    final = stack.incident()
    assert final.is_resolved and final.roles["comms"] == BOB and final.severity == "SEV1"


def test_a_card_button_stays_within_the_change_budget(stack: Stack) -> None:
    incident = declare(stack)
    WORKER.drain()
    join(stack, incident.channel_id, BOB)  # people in the channel may acknowledge
    with StatementCount(stack.runtime.engine) as count:
        click = stack.client.click(Action.ACKNOWLEDGE, user=BOB, channel=incident.channel_id,
                                   message_ts=incident.card_ts, value="1")
        assert "Acknowledged" in stack.client.reply_to(click)["text"]
        WORKER.drain()
    assert len(count) <= CHANGE_BUDGET, f"{len(count)} statements:\n{count}"
    assert stack.incident().acknowledged_by == BOB
