"""Dashboard access: password or token login, signed session cookies, CSRF, roles, audit.

Two roles: ``viewer`` sees transcripts with personal data redacted, ``pii`` sees them as
spoken. The session cookie is signed (itsdangerous), HttpOnly, SameSite=Lax and Secure when
the request came over https; it carries the CSRF token that every POST form must echo.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

from callscope.config import ConfigError, Settings

Role = Literal["viewer", "pii"]
ROLES: tuple[str, ...] = ("viewer", "pii")
SESSION_COOKIE = "callscope_session"
LOGIN_CSRF_COOKIE = "callscope_login_csrf"
SESSION_MAX_AGE_S = 12 * 3600
# Failed logins allowed per client address within FAIL_WINDOW_S before we refuse outright.
MAX_FAILURES = 10
FAIL_WINDOW_S = 60.0


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    csrf: str

    @property
    def sees_pii(self) -> bool:
        return self.role == "pii"


def parse_tokens(spec: str | None) -> dict[str, tuple[str, Role]]:
    """``"alice:pii:TOKEN,bob:viewer:TOKEN2"`` -> ``{token: (name, role)}``.

    A bare ``name:token`` means a viewer; a bare ``token`` is a viewer named after its position.
    """
    out: dict[str, tuple[str, Role]] = {}
    if not spec:
        return out
    for i, part in enumerate(p.strip() for p in spec.split(",")):
        if not part:
            continue
        pieces = part.split(":")
        if len(pieces) == 3:
            name, role, token = pieces
            if role not in ROLES:
                raise ConfigError(
                    f"dashboard_tokens: role {role!r} of {name!r} is not one of {', '.join(ROLES)}"
                )
            out[token] = (name, "pii" if role == "pii" else "viewer")
        elif len(pieces) == 2:
            out[pieces[1]] = (pieces[0], "viewer")
        elif len(pieces) == 1:
            out[pieces[0]] = (f"token{i + 1}", "viewer")
        else:
            raise ConfigError(f"dashboard_tokens: entry {i + 1} is not name:role:token")
        if not part.rsplit(":", 1)[-1]:
            raise ConfigError(f"dashboard_tokens: entry {i + 1} has an empty token")
    return out


def _secret(settings: Settings) -> str:
    """The cookie key: configured, or generated once and kept in the data dir.

    Kept on disk so that restarts and several server processes accept each other's cookies.
    """
    if settings.dashboard_secret:
        return settings.dashboard_secret
    path = Path(settings.data_dir) / "dashboard_secret"
    try:
        if path.is_file():
            existing = path.read_text(encoding="utf-8").strip()
            if existing:
                return existing
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value
    except OSError:
        # A read-only data dir still gets a working (per-process) key.
        return secrets.token_urlsafe(32)


class RevokedSessions:
    """Session ids ended by logout, until their cookie would have expired anyway.

    A cookie is signed, not stored, so deleting it in the browser does not end the session:
    a copied cookie stays valid. Logout writes the session's id here (SQLite in the data
    dir, shared by every server process) and every request checks it.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, float] = {}  # when the data dir is not writable
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS revoked (sid TEXT PRIMARY KEY, until REAL)"
                )
            except (OSError, sqlite3.Error):
                self._db = None

    def revoke(self, sid: str, until: float) -> None:
        with self._lock:
            self._memory[sid] = until
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO revoked VALUES (?, ?)", (sid, until))
                self._db.execute("DELETE FROM revoked WHERE until < ?", (time.time(),))

    def is_revoked(self, sid: str) -> bool:
        with self._lock:
            if sid in self._memory:
                return True
            if self._db is None:
                return False
            row = self._db.execute("SELECT 1 FROM revoked WHERE sid = ?", (sid,)).fetchone()
            return row is not None


def refuse_bind(settings: Settings, host: str) -> str | None:
    """Why the dashboard must not listen on ``host``, or None: no auth means loopback only."""
    from callscope.ingest.auth import is_loopback

    if settings.dashboard_auth or is_loopback(host):
        return None
    return (
        f"refusing to serve the dashboard on {host} with CALLSCOPE_DASHBOARD_AUTH=false "
        "(it shows personal data to anyone who connects): enable auth, bind 127.0.0.1, "
        "or use --no-dashboard"
    )


@dataclass
class Auth:
    settings: Settings
    audit: Any = None
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.enabled = self.settings.dashboard_auth
        self.tokens = parse_tokens(self.settings.dashboard_tokens)
        self.serializer = URLSafeTimedSerializer(_secret(self.settings), salt="callscope-dash")
        self.revoked = RevokedSessions(Path(self.settings.data_dir) / "dashboard_sessions.sqlite3")

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.dashboard_password or s.dashboard_pii_password or self.tokens)

    # -- identities --------------------------------------------------------------------
    def check_secret(self, secret: str) -> tuple[str, Role] | None:
        """Who a typed password or token belongs to, compared in constant time."""
        found: tuple[str, Role] | None = None
        s = self.settings
        candidates: list[tuple[str, tuple[str, Role]]] = []
        if s.dashboard_pii_password:
            candidates.append((s.dashboard_pii_password, ("pii-user", "pii")))
        if s.dashboard_password:
            candidates.append((s.dashboard_password, ("viewer", "viewer")))
        candidates.extend(self.tokens.items())
        given = secret.encode()
        for expected, who in candidates:
            if hmac.compare_digest(given, expected.encode()) and found is None:
                found = who
        return found

    def user_from_request(self, request: Request) -> User | None:
        if not self.enabled:  # `serve` refuses a non-loopback bind in this mode
            return User(name="local-demo", role="pii", csrf=self._demo_csrf())
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            who = self.tokens.get(token) if token else None
            if who is None:
                return None
            # Header-authenticated clients send no cookies, so CSRF does not apply to them.
            return User(name=who[0], role=who[1], csrf="")
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        role = data.get("r")
        if role not in ROLES or self.revoked.is_revoked(str(data.get("c", ""))):
            return None
        return User(name=str(data.get("u", "")), role=role, csrf=str(data.get("c", "")))

    def end_session(self, user: User) -> None:
        """Logout: the session's cookie is refused from now on, wherever a copy of it is."""
        if user.csrf:
            self.revoked.revoke(user.csrf, time.time() + SESSION_MAX_AGE_S)

    def _demo_csrf(self) -> str:
        return str(self.serializer.dumps("demo-csrf"))

    def session_cookie(self, name: str, role: Role) -> str:
        return str(self.serializer.dumps({"u": name, "r": role, "c": secrets.token_urlsafe(16)}))

    # -- CSRF --------------------------------------------------------------------------
    def new_login_csrf(self) -> str:
        return secrets.token_urlsafe(16)

    def sign_login_csrf(self, token: str) -> str:
        return str(self.serializer.dumps({"lc": token}))

    def login_csrf_ok(self, request: Request, submitted: str) -> bool:
        raw = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        try:
            data = self.serializer.loads(raw, max_age=3600)
        except BadSignature:
            return False
        expected = data.get("lc", "") if isinstance(data, dict) else ""
        return bool(expected) and hmac.compare_digest(str(expected), submitted)

    @staticmethod
    def csrf_ok(user: User, submitted: str) -> bool:
        return bool(user.csrf) and hmac.compare_digest(user.csrf, submitted)

    # -- throttling and audit --------------------------------------------------------
    def throttled(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._failures.get(client)
            if q is None:
                return False
            while q and now - q[0] > FAIL_WINDOW_S:
                q.popleft()
            return len(q) >= MAX_FAILURES

    def record_failure(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(time.monotonic())

    def audit_login(self, *, user: str, role: str, client: str, ok: bool, method: str) -> None:
        if self.audit is None:
            return
        self.audit.append(
            "dashboard_login" if ok else "dashboard_login_failed",
            actor=user,
            target=client,
            details={"role": role, "ok": ok, "method": method},
        )


def is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"
