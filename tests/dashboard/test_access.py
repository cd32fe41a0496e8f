"""Login, cookies, CSRF, roles, tokens, audit, and bad input, against the real server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from tests.dashboard.conftest import API_TOKEN, PASSWORD, PII_PASSWORD, Demo, Server

from callscope.config import ConfigError, Settings
from callscope.dashboard.auth import Auth, parse_tokens
from callscope.governance.audit import AuditLog, default_audit_path


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "form carries a CSRF token"
    return m.group(1)


def login(server: Server, secret: str) -> httpx.Client:
    c = httpx.Client(base_url=server.url, follow_redirects=False, timeout=10)
    page = c.get("/login")
    r = c.post("/login", data={"secret": secret, "csrf": _csrf(page.text), "next": "/sessions"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/sessions"
    return c


def test_pages_need_login(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.get("/revops?tier=tier_1")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=%2Frevops%3Ftier%3Dtier_1")
        assert c.get("/api/overview").status_code == 401
        assert c.get("/events").status_code == 401
        assert c.get("/static/app.css").status_code == 200  # the login page needs its styles


def test_session_cookie_flags_and_audit(server: Server) -> None:
    c = httpx.Client(base_url=server.url, timeout=10)
    page = c.get("/login")
    r = c.post("/login", data={"secret": PASSWORD, "csrf": _csrf(page.text), "next": "/"})
    cookie = r.headers["set-cookie"]
    assert "callscope_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http on loopback
    audit = AuditLog(default_audit_path(server.settings.data_dir))
    entries = audit.entries()
    assert any(e["action"] == "dashboard_login" and e["actor"] == "viewer" for e in entries)
    assert audit.verify().ok
    c.close()


def test_secure_cookie_behind_https_proxy(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        page = c.get("/login", headers={"x-forwarded-proto": "https"})
        assert "Secure" in page.headers["set-cookie"]


def test_wrong_password_and_missing_csrf(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        page = c.get("/login")
        token = _csrf(page.text)
        r = c.post("/login", data={"secret": "nope", "csrf": token})
        assert r.status_code == 401 and "wrong password or token" in r.text
        # Without the CSRF token (a cross-site form post) the login is refused.
        fresh = httpx.post(f"{server.url}/login", data={"secret": PASSWORD})
        assert fresh.status_code == 400 and "expired" in fresh.text
        entries = AuditLog(default_audit_path(server.settings.data_dir)).entries()
        assert any(e["action"] == "dashboard_login_failed" for e in entries)


def test_logout_needs_csrf(server: Server) -> None:
    c = login(server, PASSWORD)
    assert c.post("/logout", data={}).status_code == 403
    page = c.get("/")
    r = c.post("/logout", data={"csrf": _csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    c.close()


def test_viewer_sees_redacted_transcript_pii_role_sees_it(server: Server, demo: Demo) -> None:
    target = next(p for p in demo.sessions if p.record.participant.email)
    email = str(target.record.participant.email)
    viewer = login(server, PASSWORD)
    page = viewer.get(f"/sessions/{target.session_id}")
    assert page.status_code == 200
    assert email not in page.text and "redacted for your role" in page.text
    api = viewer.get(f"/api/sessions/{target.session_id}").json()
    assert api["redacted"] is True and email not in str(api)
    viewer.close()
    pii = login(server, PII_PASSWORD)
    page = pii.get(f"/sessions/{target.session_id}")
    assert email in page.text and "redacted for your role" not in page.text
    pii.close()


def test_bearer_token_reads_api(server: Server, demo: Demo) -> None:
    h = {"authorization": f"Bearer {API_TOKEN}"}
    r = httpx.get(
        f"{server.url}/api/overview",
        params={"start": demo.start.isoformat(), "end": demo.end.isoformat()},
        headers=h,
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["calls"] == len(demo.sessions)
    bad = httpx.get(f"{server.url}/api/overview", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "query, message",
    [
        ("start=2026-13-01", "start: '2026-13-01' is not a date (YYYY-MM-DD)"),
        ("start=2026-11-10&end=2026-11-01", "start 2026-11-10 is after end 2026-11-01"),
        ("tier=gold", "tier: 'gold' is not one of tier_1, tier_2, unqualified"),
        ("meeting_value=abc", "meeting_value: 'abc' is not a number"),
    ],
)
def test_bad_filters_one_line_error(server: Server, query: str, message: str) -> None:
    h = {"authorization": f"Bearer {API_TOKEN}"}
    r = httpx.get(f"{server.url}/api/executive?{query}", headers=h, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": message}
    c = login(server, PASSWORD)
    page = c.get(f"/executive?{query}")
    assert page.status_code == 400 and message.replace("'", "&#39;") in page.text
    c.close()


def test_unknown_session_and_static_traversal(server: Server) -> None:
    c = login(server, PASSWORD)
    r = c.get("/sessions/does-not-exist")
    assert r.status_code == 404 and "no session" in r.text
    assert c.get("/static/../auth.py").status_code == 404
    assert c.get("/static/%2e%2e/auth.py").status_code == 404
    assert c.get("/static/vendor/chart.umd.min.js").status_code == 200
    c.close()


def test_open_redirect_is_refused(server: Server) -> None:
    c = httpx.Client(base_url=server.url, timeout=10)
    page = c.get("/login")
    r = c.post(
        "/login", data={"secret": PASSWORD, "csrf": _csrf(page.text), "next": "//evil.example/"}
    )
    assert r.headers["location"] == "/"
    c.close()


def test_token_spec_parsing(tmp_path: Path) -> None:
    assert parse_tokens("a:pii:t1, b:viewer:t2,c:t3,t4") == {
        "t1": ("a", "pii"),
        "t2": ("b", "viewer"),
        "t3": ("c", "viewer"),
        "t4": ("token4", "viewer"),
    }
    with pytest.raises(ConfigError, match="role 'admin' of 'a' is not one of viewer, pii"):
        parse_tokens("a:admin:t1")
    with pytest.raises(ConfigError, match="entry 1 has an empty token"):
        parse_tokens("a:pii:")
    # No password configured: the login page says how to configure it instead of a form.
    auth = Auth(Settings(data_dir=tmp_path))
    assert not auth.configured
    assert auth.check_secret("") is None
    # Ten failures from one address lock that address (only) out for a minute.
    auth = Auth(Settings(data_dir=tmp_path, dashboard_password="x"))
    for _ in range(10):
        auth.record_failure("10.0.0.1")
    assert auth.throttled("10.0.0.1") and not auth.throttled("10.0.0.2")
    # The demo switch gives everyone access without a login.
    assert Auth(Settings(data_dir=tmp_path, dashboard_auth=False)).enabled is False


def test_warehouse_without_rollups_answers_503_with_one_line(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from callscope.dashboard import create_dashboard_router
    from callscope.store import open_store

    # A read-only warehouse that never had rollups: the dashboard cannot build them.
    open_store(f"duckdb:///{tmp_path / 'ro.duckdb'}").close()
    store = open_store(f"duckdb:///{tmp_path / 'ro.duckdb'}", read_only=True)
    app = FastAPI()
    settings = Settings(data_dir=tmp_path, dashboard_auth=False)
    app.include_router(create_dashboard_router(settings, store))
    client = TestClient(app)
    r = client.get("/api/overview")
    assert r.status_code == 503
    assert r.json()["error"].startswith("warehouse unavailable: ")
    assert "\n" not in r.json()["error"]
    page = client.get("/engineering")
    assert page.status_code == 503 and "warehouse unavailable" in page.text
    store.close()


def test_logout_revokes_the_session_server_side(server: Server) -> None:
    """A copied cookie stops working the moment its owner logs out (issue 13)."""
    from callscope.dashboard.auth import SESSION_COOKIE

    owner = login(server, PASSWORD)
    stolen = httpx.Client(
        base_url=server.url, cookies={SESSION_COOKIE: owner.cookies[SESSION_COOKIE]}, timeout=10
    )
    assert stolen.get("/api/overview").status_code == 200
    page = owner.get("/")
    assert owner.post("/logout", data={"csrf": _csrf(page.text)}).status_code == 303
    assert stolen.get("/api/overview").status_code == 401
    assert stolen.get("/sessions", follow_redirects=False).status_code == 303
    # A new login is a new session, unaffected by the revocation.
    again = login(server, PASSWORD)
    assert again.get("/api/overview").status_code == 200
    for c in (owner, stolen, again):
        c.close()
