"""``callscope outcomes pull salesforce``: lead status and opportunities for known callers.

For the emails callscope has seen (the callers in the warehouse), SOQL asks for each Lead's
status and its converted Opportunity (stage, won/closed, amount, close date) through
simple-salesforce, 100 emails per query. Each Lead becomes one outcome keyed by its Lead id,
so pulling again updates rather than duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from callscope.outcomes.records import Outcome

CHUNK = 100
_LEAD_SOQL = (
    "SELECT Id, Email, Status, IsConverted, ConvertedOpportunityId, ConvertedDate, "
    "LastModifiedDate FROM Lead WHERE Email IN ({})"
)
_OPP_SOQL = (
    "SELECT Id, StageName, IsClosed, IsWon, Amount, CloseDate FROM Opportunity WHERE Id IN ({})"
)


class PullError(Exception):
    """The CRM could not be read; ``str()`` is one line."""


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _when(*values: Any) -> datetime | None:
    for v in values:
        if isinstance(v, str) and v.strip():
            text = v.strip().replace("Z", "+00:00")
            if len(text) == 10:
                text += "T00:00:00+00:00"
            try:
                parsed = datetime.fromisoformat(text.replace("+0000", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class _TimeoutSession(requests.Session):
    # simple_salesforce passes no timeout: a hung instance would hang the command.
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


class SalesforcePull:
    def __init__(
        self,
        instance_url: str,
        session_id: str,
        *,
        api_version: str = "59.0",
        verify: bool | str = True,
        timeout: float = 15.0,
    ) -> None:
        session = _TimeoutSession(timeout)
        session.verify = verify
        self._sf = Salesforce(
            instance_url=instance_url, session_id=session_id, version=api_version, session=session
        )

    def _query(self, soql: str) -> list[dict[str, Any]]:
        try:
            return list(self._sf.query_all(soql).get("records") or [])
        except SalesforceError as exc:
            raise PullError(
                f"salesforce query failed: {exc.status} {str(exc.content)[:200]}"
            ) from None
        except requests.RequestException as exc:
            raise PullError(f"salesforce unreachable: {type(exc).__name__}: {exc}") from None

    def outcomes(self, emails: Sequence[str]) -> list[Outcome]:
        leads: list[dict[str, Any]] = []
        for chunk in _chunks(list(emails), CHUNK):
            leads += self._query(_LEAD_SOQL.format(", ".join(_quote(e) for e in chunk)))
        opp_ids = [
            str(x["ConvertedOpportunityId"]) for x in leads if x.get("ConvertedOpportunityId")
        ]
        opps: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(opp_ids, CHUNK):
            for o in self._query(_OPP_SOQL.format(", ".join(_quote(i) for i in chunk))):
                opps[str(o["Id"])] = o
        return [o for o in (_outcome(x, opps) for x in leads) if o is not None]


def _outcome(lead: dict[str, Any], opps: dict[str, dict[str, Any]]) -> Outcome | None:
    email = lead.get("Email")
    if not isinstance(email, str) or "@" not in email:
        return None
    opp = opps.get(str(lead.get("ConvertedOpportunityId") or ""))
    closed = bool(opp and opp.get("IsClosed"))
    amount = opp.get("Amount") if opp else None
    return Outcome(
        id=str(lead.get("Id")),
        email=email,
        stage=str((opp or {}).get("StageName") or lead.get("Status") or "") or None,
        closed_won=bool(opp.get("IsWon")) if opp and closed else None,
        amount=float(amount) if isinstance(amount, int | float) else None,
        trial_converted=bool(lead.get("IsConverted")),
        occurred_at=_when(
            (opp or {}).get("CloseDate"), lead.get("ConvertedDate"), lead.get("LastModifiedDate")
        ),
    )
