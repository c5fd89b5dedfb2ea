"""POST /alerts/<integration>: monitoring's webhooks into Debrief (HTTP mode, and on the
side port in Socket Mode).

Checked in this order, each refusal one JSON line and nothing stored: the integration
exists (404), the sender's bearer token (401, compared in constant time; an integration
whose token variable is unset refuses everyone), the body's size (413, before it is
read), for `generic` with `secret_env` an HMAC-SHA256 of the body in
`X-Debrief-Signature: sha256=<hex>` (401), JSON (400), the payload's shape (400). Then
the delivery is stored and answered 202; Slack is updated afterwards, off the request.

`POST /alerts/<integration>/heartbeat` is a heartbeat integration's ping: the same
token and size checks, then one UPDATE of its row (bot/services/heartbeats.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.config import AlertIntegration, AlertsConfig
from bot.domain.alerts import PayloadError, parse_payload, ping_counts
from bot.observability import REFUSED
from bot.services.alerts import AlertSync, receive_alert
from bot.services.heartbeats import ping_heartbeat
from bot.services.ports import Deps

log = logging.getLogger(__name__)
MAX_ALERT_BODY = 1024 * 1024  # Alertmanager caps a notification's alerts; 1 MiB is plenty
PREFIX = "/alerts/"

Answer = tuple[int, dict[str, Any]]


class AlertInbox:
    def __init__(self, config: AlertsConfig, secrets: Mapping[str, str], deps: Deps,
                 sync: AlertSync | None = None) -> None:
        self.config, self.secrets, self.deps = config, secrets, deps
        self.sync = sync or AlertSync(deps)

    def handle(self, name: str, environ: dict[str, Any]) -> Answer:
        name, _, action = name.partition("/")
        integration = self.config.integrations.get(name)
        if integration is None:
            return 404, {"error": "no such integration"}
        if action and (action != "heartbeat" or integration.kind != "heartbeat"):
            return 404, {"error": f"{name} is not a heartbeat integration" if action ==
                         "heartbeat" else "not found"}
        if environ.get("REQUEST_METHOD") != "POST":
            return 405, {"error": "POST only"}
        token = self.secrets.get(integration.token_env, "")
        given = str(environ.get("HTTP_AUTHORIZATION") or "")
        if not token or not given.startswith("Bearer ") or not hmac.compare_digest(
                given.removeprefix("Bearer ").strip().encode(), token.encode()):
            return self._refuse(401, "a valid bearer token is required", "alert_auth")
        length_text = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not (length_text.isascii() and length_text.isdigit() and len(length_text) < 19):
            return self._refuse(400, "bad Content-Length", "malformed")
        length = int(length_text)
        if length > MAX_ALERT_BODY:
            return self._refuse(413, f"body over the {MAX_ALERT_BODY} byte limit", "too_large")
        stream = environ.get("wsgi.input")
        raw = stream.read(length) if stream is not None and length else b""
        if integration.kind == "heartbeat":
            return self._ping(integration, raw) if action else self._refuse(
                400, f"{name} is a heartbeat: ping /alerts/{name}/heartbeat", "malformed")
        if integration.secret_env:
            secret = self.secrets.get(integration.secret_env, "")
            expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            signature = str(environ.get("HTTP_X_DEBRIEF_SIGNATURE") or "")
            if not secret or not hmac.compare_digest(expected.encode(), signature.encode()):
                return self._refuse(401, "wrong or missing X-Debrief-Signature", "alert_auth")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._refuse(400, "the body is not JSON", "malformed")
        except RecursionError:
            return self._refuse(400, "the body is nested too deeply", "malformed")
        try:
            notification = parse_payload(integration.kind, payload)
        except PayloadError as exc:
            return self._refuse(400, str(exc), "malformed")
        except RecursionError:
            return self._refuse(400, "the body is nested too deeply", "malformed")
        try:
            received = receive_alert(integration, notification, uow=self.deps.uow,
                                     now=self.deps.now())
        except Exception:  # noqa: BLE001 - storage failed: the sender should retry
            log.exception("alert from %s not stored", name)
            return 503, {"error": "not stored, try again"}
        if received is None:
            return 202, {"ok": True, "ignored": "resolved, never seen firing"}
        self.sync.kick(received.group_id)
        return 202, {"ok": True, "group": received.group_id, "status": received.status}

    def _ping(self, integration: AlertIntegration, raw: bytes) -> Answer:
        """A heartbeat's ping: any body (or none) counts, except a notification saying its
        alert resolved (Alertmanager's Watchdog stops firing when the pipeline behind it
        breaks). One UPDATE; an outage it ends is resolved and its message updated."""
        try:
            payload = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            payload = None
        if not ping_counts(payload):
            return 202, {"ok": True, "counted": False}
        try:
            resolved = ping_heartbeat(integration, self.deps, self.deps.now())
        except Exception:  # noqa: BLE001 - storage failed: the sender pings again
            log.exception("heartbeat ping for %s not stored", integration.name)
            return 503, {"error": "not stored, try again"}
        if resolved is not None:
            self.sync.kick(resolved)
        return 202, {"ok": True, "counted": True}

    def _refuse(self, status: int, reason: str, label: str) -> Answer:
        REFUSED.labels(label).inc()
        log.warning("refused an alert delivery: %s", reason)
        return status, {"error": reason}
