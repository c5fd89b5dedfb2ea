"""The permission policy, pure: actions × parties, the defaults the issue asks for, the
order parties are asked in, and `permissions:` parsed from debrief.yaml."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import parse_config
from bot.domain.incidents import Incident
from bot.domain.permissions import DEFAULT_RULES, Act, Admins, Party, Policy, Refused, may
from bot.errors import ConfigError
from bot.services.permissions import Subject, authorize
from tests.fakes import FakeChat

AT = datetime(2026, 11, 26, 10, tzinfo=UTC)


def test_every_action_has_a_default_rule() -> None:
    assert set(DEFAULT_RULES) == set(Act)
    assert DEFAULT_RULES[Act.DECLARE] == (Party.ANYONE,)
    for act in (Act.SEVERITY, Act.ROLE, Act.RESOLVE, Act.REOPEN, Act.CANCEL):
        assert DEFAULT_RULES[act] == (Party.COMMANDER, Party.INCIDENT_ADMINS)


def test_parties_are_asked_in_order_and_stop_at_the_first_that_holds() -> None:
    """The expensive questions (a user group look-up) are only asked when needed."""
    asked: list[Party] = []

    def holds(party: Party) -> bool:
        asked.append(party)
        return party is Party.COMMANDER

    decision = may(Policy(), Act.RESOLVE, holds)
    assert decision.allowed and decision.as_party is Party.COMMANDER
    assert asked == [Party.COMMANDER]
    refused = may(Policy(), Act.ACK, lambda party: False)
    assert not refused.allowed and refused.who == (Party.CHANNEL_MEMBERS,)
    with pytest.raises(Refused) as info:
        refused.check("U9")
    assert info.value.allowed == (Party.CHANNEL_MEMBERS,) and info.value.act is Act.ACK


def incident(**changes: object) -> Incident:
    values: dict[str, object] = dict(number=1, title="t", severity="SEV2",
                                     status="investigating", description="", declared_at=AT,
                                     declared_by="U1", channel_id="C1",
                                     roles={"commander": "U1"})
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


def test_without_a_commander_the_channel_may_lead() -> None:
    """An incident nobody commands can still be resolved: by the people in its channel."""
    chat = FakeChat(members={"C1": {"U1", "U2"}})
    leaderless = incident(roles={})
    assert authorize(Act.RESOLVE, "U2", Subject(incident=leaderless), policy=Policy(),
                     chat=chat).allowed
    with pytest.raises(Refused):
        authorize(Act.RESOLVE, "U3", Subject(incident=leaderless), policy=Policy(), chat=chat)
    with pytest.raises(Refused):  # with a commander, a member is not enough
        authorize(Act.RESOLVE, "U2", Subject(incident=incident()), policy=Policy(), chat=chat)


def test_admins_by_list_or_user_group() -> None:
    chat = FakeChat(members={"C1": set()}, usergroups={"ops": ["U7"]})
    for admins, user in ((Admins(users=frozenset({"U8"})), "U8"), (Admins(usergroup="ops"), "U7")):
        policy = Policy(incident_admins=admins)
        assert authorize(Act.CANCEL, user, Subject(incident=incident()), policy=policy,
                         chat=chat).as_party is Party.INCIDENT_ADMINS


def test_permissions_section_is_parsed_once_into_types() -> None:
    config = parse_config({"permissions": {
        "incident_admins": "@incident-admins", "oncall_admins": ["U012ABCDEF"],
        "rules": {"resolve": ["commander"], "declare": "incident_admins"}}})
    policy = config.permissions
    assert policy.incident_admins == Admins(usergroup="incident-admins")
    assert policy.oncall_admins == Admins(users=frozenset({"U012ABCDEF"}))
    assert policy.who(Act.RESOLVE) == (Party.COMMANDER,)
    assert policy.who(Act.DECLARE) == (Party.INCIDENT_ADMINS,)
    assert policy.who(Act.SEVERITY) == DEFAULT_RULES[Act.SEVERITY]  # untouched defaults


@pytest.mark.parametrize("raw, key", [
    ({"permissions": ["x"]}, "permissions"),
    ({"permissions": {"admins": []}}, "permissions.admins"),
    ({"permissions": {"incident_admins": ["not an id"]}}, "permissions.incident_admins"),
    ({"permissions": {"incident_admins": 7}}, "permissions.incident_admins"),
    ({"permissions": {"rules": {"explode": ["anyone"]}}}, "permissions.rules.explode"),
    ({"permissions": {"rules": {"resolve": ["the boss"]}}}, "permissions.rules.resolve"),
    ({"permissions": {"rules": {"resolve": []}}}, "permissions.rules.resolve"),
    ({"permissions": {"rules": ["resolve"]}}, "permissions.rules"),
    ({"rename_channel": "yes"}, "rename_channel"),
])
def test_bad_permissions_name_the_key(raw: object, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="debrief.yaml")
    assert key in str(info.value)

