"""Alertmanager's API v2, for "Silence 1h": POST /api/v2/silences, and GET /api/v2/alerts
when a silence ends (standard library HTTP, no new dependency). Implements
`bot.services.ports.Silences`."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.domain.alerts import parse_time
from bot.errors import UserError

TIMEOUT = 5  # seconds: the person is waiting on a button
QUERY_TIMEOUT = 2  # seconds: the scheduler's tick asks when silences end; paging waits


class AlertmanagerSilences:
    def create(self, base_url: str, matchers: Mapping[str, str], starts: datetime,
               ends: datetime, created_by: str, comment: str) -> str:
        """The new silence's id. Any failure is one line the person can act on."""
        body = json.dumps({
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                         for k, v in sorted(matchers.items())],
            "startsAt": starts.isoformat(), "endsAt": ends.isoformat(),
            "createdBy": created_by, "comment": comment}).encode()
        request = urllib.request.Request(base_url.rstrip("/") + "/api/v2/silences", data=body,
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise UserError(f"Alertmanager refused the silence (HTTP {exc.code}).") from None
        except (OSError, ValueError) as exc:
            raise UserError(f"Alertmanager could not be reached to silence this alert "
                            f"({type(exc).__name__}); check alertmanager_url.") from None
        silence = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence, str) or not silence:
            raise UserError("Alertmanager answered without a silence id.")
        return silence

    def firing(self, base_url: str, matchers: Mapping[str, str]) -> bool:
        """Any alert matching every label, active, silenced or inhibited, not yet ended."""
        query = [("filter", f'{k}="{_quoted(v)}"') for k, v in sorted(matchers.items())]
        query += [("active", "true"), ("silenced", "true"), ("inhibited", "true"),
                  ("unprocessed", "true")]
        url = base_url.rstrip("/") + "/api/v2/alerts?" + urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=QUERY_TIMEOUT) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise UserError(f"Alertmanager refused the alerts query (HTTP {exc.code}).") \
                from None
        except (OSError, ValueError) as exc:
            raise UserError(f"Alertmanager could not be reached ({type(exc).__name__})") \
                from None
        if not isinstance(answer, list):
            raise UserError("Alertmanager answered the alerts query with no list.")
        now = datetime.now(UTC)
        return any(isinstance(a, dict) and _not_ended(a.get("endsAt"), now) for a in answer)


def _quoted(value: str) -> str:
    """A label value inside a matcher's double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _not_ended(ends: object, now: datetime) -> bool:
    """An alert's endsAt is still ahead; unreadable, or Alertmanager's year-1 "no end":
    treated as not ended."""
    moment = parse_time(ends)
    return moment is None or moment > now
