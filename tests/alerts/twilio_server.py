"""A local stand-in for Twilio's Messages API, speaking its REST wire format.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic auth (the account
SID and auth token) and a form-encoded body (``To``, ``From``, ``Body``); 201 with a Message
resource, or Twilio's error document (``code``, ``message``, ``more_info``, ``status``):
20003 on bad credentials, 21211 on an invalid ``To`` number, 21602 without a body.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.sinks.servers import HttpService, Reply, Request

_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _error(status: int, code: int, message: str) -> Reply:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@dataclass
class TwilioState:
    account_sid: str
    auth_token: str
    messages: list[dict[str, Any]] = field(default_factory=list)


def twilio_service(state: TwilioState) -> HttpService:
    def respond(req: Request) -> Reply:
        m = _PATH.match(req.path)
        if req.method != "POST" or m is None:
            return _error(404, 20404, "The requested resource was not found")
        expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        if (
            req.headers.get("authorization") != f"Basic {expected}"
            or m.group(1) != state.account_sid
        ):
            return _error(401, 20003, "Authenticate")
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if not _E164.match(form.get("To", "")):
            return _error(
                400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number."
            )
        if not form.get("Body"):
            return _error(400, 21602, "Message body is required.")
        sid = f"SM{len(state.messages) + 1:032x}"
        message = {
            "sid": sid,
            "account_sid": state.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "body": form["Body"],
            "status": "queued",
            "num_segments": str(1 + len(form["Body"]) // 160),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{sid}.json",
        }
        state.messages.append(message)
        return 201, {"Content-Type": "application/json"}, json.dumps(message).encode()

    return HttpService(respond)
