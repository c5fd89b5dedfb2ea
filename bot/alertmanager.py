"""Alertmanager's API v2, for "Silence 1h": one POST /api/v2/silences (standard library
HTTP, no new dependency). Implements `bot.services.ports.Silences`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime

from bot.errors import UserError

TIMEOUT = 5  # seconds: the person is waiting on a button


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
