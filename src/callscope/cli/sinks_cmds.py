"""``callscope sinks`` (destinations), ``callscope digest`` and ``callscope roi``.

Exit codes: 0 ok; 1 a delivery failed or the warehouse is unreachable; 2 usage or
configuration error (bad ``sinks:`` section, missing secret, bad ROI assumption).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.context import fail_line

out = Console()
err = Console(stderr=True)

sinks_app = typer.Typer(
    name="sinks",
    help="Destinations: Salesforce, Amplitude, Slack, PagerDuty, email, webhooks.",
    no_args_is_help=True,
)

SinksConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--sinks-config",
        help="YAML file with a sinks: section (default: the --config file).",
        envvar="CALLSCOPE_SINKS_CONFIG",
    ),
]
StoreOpt = Annotated[str | None, typer.Option("--url", help="Store URL (default: config).")]


def _fail(message: str, code: int) -> typer.Exit:
    from callscope.cli.context import exit_error

    return exit_error(message, code)


def _config(path: str | None) -> Any:
    from callscope.cli.context import current
    from callscope.sinks.config import SinkConfigError, load_sinks_config

    source = path or current().config_file or os.environ.get("CALLSCOPE_CONFIG")
    try:
        config = load_sinks_config(source)
    except SinkConfigError as exc:
        raise _fail(str(exc), 2) from None
    return config


def _labeler() -> Any:
    """Picklist labels from the active profile (a title-cased id when it has none)."""
    from callscope.cli.context import profile_or_exit
    from callscope.sinks.factory import profile_labeler

    return profile_labeler(profile_or_exit())


def _qualified() -> list[str]:
    """The active profile's qualified tiers (routes and Tasks without ``tiers`` send these)."""
    from callscope.cli.core import profile_or_exit
    from callscope.sinks.config import qualified_tiers

    return qualified_tiers(profile_or_exit())


def _sinks(config: Any, only: str | None = None) -> dict[str, Any]:
    from callscope.sinks.config import SinkConfigError
    from callscope.sinks.factory import build_sink

    names = [only] if only else list(config.destinations)
    for name in names:
        if name not in config.destinations:
            known = ", ".join(config.destinations) or "none configured"
            raise _fail(f"unknown destination {name!r} (configured: {known})", 2)
    try:
        labeler, tiers = _labeler(), _qualified()
        return {
            n: build_sink(n, config.destinations[n], labeler=labeler, qualified=tiers)
            for n in names
        }
    except SinkConfigError as exc:
        raise _fail(str(exc), 2) from None


def _store(url: str | None, *, read_only: bool = False) -> Any:
    from callscope.store import StoreError, open_store

    if not url:
        from callscope.cli.context import settings

        url = settings().resolved_store_url()
    try:
        return open_store(url, read_only=read_only)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None


def _close_all(sinks: dict[str, Any]) -> None:
    for sink in sinks.values():
        sink.close()


@sinks_app.command("run")
def run_cmd(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    sinks_config: SinksConfigOpt = None,
    url: StoreOpt = None,
) -> None:
    """Deliver new alerts and qualified leads from the warehouse to the routed destinations."""
    from callscope.sinks.dispatch import Dispatcher

    config = _config(sinks_config)
    if not config.routes and not config.destinations:
        raise _fail("no routes in the sinks: section; nothing to deliver", 2)
    sinks = _sinks(config)
    store = _store(url)
    try:
        dispatcher = Dispatcher(store, config, sinks, qualified=_qualified())
        if once:
            stats = dispatcher.run_once()
            erased = ", ".join(f"{k} {v}" for k, v in sorted(stats.erasures.items()))
            out.print(
                f"delivered {stats.delivered}, retry later {stats.retry}, "
                f"failed {stats.failed}, dead {stats.dead}"
                + (f"; paused: {', '.join(stats.skipped_sinks)}" if stats.skipped_sinks else "")
                + (f"; erasures: {erased}" if erased else ""),
                highlight=False,
            )
            if stats.failed or stats.dead or stats.erasures.get("failed"):
                raise typer.Exit(1)
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            dispatcher.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
    finally:
        _close_all(sinks)
        store.close()


@sinks_app.command("test")
def test_cmd(
    name: Annotated[str, typer.Argument(help="Destination name from the sinks: section.")],
    session: Annotated[
        str | None, typer.Option("--session", help="Lead-only sinks: send this session's lead.")
    ] = None,
    sinks_config: SinksConfigOpt = None,
    url: StoreOpt = None,
) -> None:
    """Send one test event to a destination (not recorded in sink_deliveries).

    Alert-capable destinations get an alert labelled as a test. Salesforce and Amplitude take
    leads only: they get the latest qualified lead in the warehouse (or --session), which
    they upsert idempotently.
    """
    from callscope.sinks.base import AlertEvent, Event, SinkError, lead_event_from_row
    from callscope.sinks.config import KINDS
    from callscope.sinks.dispatch import LEAD_COLUMNS, enrich

    config = _config(sinks_config)
    sinks = _sinks(config, name)
    sink = sinks[name]
    event: Event
    try:
        if "alert" in KINDS[config.destinations[name].type]:
            event = AlertEvent(
                id=f"test:{uuid.uuid4().hex[:12]}",
                rule="callscope_test",
                severity="info",
                channel=None,
                message="Test event from `callscope sinks test`: this destination is wired up.",
                session_id=None,
                fired_at=datetime.now(UTC),
            )
        else:
            store = _store(url, read_only=False)
            try:
                # Without --session: the latest qualified lead (any tier above the
                # profile's below-tiers one), the ids bound from the profile.
                from callscope.cli.context import profile_or_exit

                qualified = profile_or_exit().scoring.tier_ids()[:-1]
                marks = ", ".join("?" for _ in qualified)
                where = "s.session_id = ?" if session else f"l.tier IN ({marks})"
                rows = store.fetch(
                    f"SELECT {LEAD_COLUMNS} FROM sessions s JOIN leads l "
                    f"ON l.session_id = s.session_id WHERE {where} "
                    "ORDER BY s.processed_at DESC LIMIT 1",
                    [session] if session else qualified,
                )
                if not rows:
                    raise _fail(
                        f"no session {session!r} with a lead"
                        if session
                        else "no qualified lead yet",
                        1,
                    )
                event = enrich(store, [lead_event_from_row(rows[0])])[0]
            finally:
                store.close()
        sink.deliver(event)
    except SinkError as exc:
        kind = "retryable" if exc.retryable else "permanent"
        raise _fail(f"{exc} ({kind})", 1) from None
    finally:
        _close_all(sinks)
    out.print(f"{name}: delivered {event.event_id}", highlight=False)


@sinks_app.command("describe")
def describe_cmd(
    name: Annotated[str, typer.Argument(help="A salesforce destination from the sinks: section.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    sinks_config: SinksConfigOpt = None,
) -> None:
    """Compare the field map with the org's describe(): missing and wrong-type fields.

    Exit 1 when any mapped field is missing or of the wrong type, so a deploy can check the
    org before anything is sent.
    """
    from callscope.sinks.salesforce import SalesforceSink, check_fields

    config = _config(sinks_config)
    sinks = _sinks(config, name)
    sink = sinks[name]
    try:
        if not isinstance(sink, SalesforceSink):
            raise _fail(f"{name!r} is not a salesforce destination", 2)
        checks = check_fields(sink)
    finally:
        _close_all(sinks)
    bad = [c for c in checks if c.status != "ok"]
    if as_json:
        rows = [
            {"object": c.sobject, "field": c.field, "status": c.status, "detail": c.detail}
            for c in checks
        ]
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        table = Table("object", "field", "status", "detail")
        for c in checks:
            color = {"ok": "green", "missing": "red"}.get(c.status, "yellow")
            table.add_row(c.sobject, c.field, f"[{color}]{c.status}[/]", c.detail)
        out.print(table)
        out.print(
            f"{len(checks) - len(bad)} fields ok, "
            f"{sum(c.status == 'missing' for c in bad)} missing, "
            f"{sum(c.status == 'wrong_type' for c in bad)} of the wrong type",
            highlight=False,
        )
    if bad:
        raise typer.Exit(1)


@sinks_app.command("status")
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    sinks_config: SinksConfigOpt = None,
    url: StoreOpt = None,
) -> None:
    """Deliveries per destination: delivered, waiting to retry, failed, dead, pending."""
    from callscope.sinks.dispatch import Dispatcher

    config = _config(sinks_config)
    store = _store(url)
    try:
        # Status needs no secrets: the dispatcher only reads, it never delivers here.
        rows = Dispatcher(store, config, {}, check_sinks=False).status()
    finally:
        store.close()
    if as_json:
        typer.echo(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(
        "sink",
        "delivered",
        "retry",
        "failed",
        "dead",
        "pending",
        "erasures",
        "last attempt",
        "last error",
    )
    for r in rows:
        last = r["last_attempt_at"]
        table.add_row(
            r["sink"],
            *(str(r[k]) for k in ("delivered", "retry", "failed", "dead")),
            str(r.get("pending", "-")),
            ", ".join(f"{k} {v}" for k, v in sorted(r["erasures"].items())) or "-",
            last.strftime("%Y-%m-%d %H:%M:%S") if last else "-",
            (r["last_error"] or "")[:60],
        )
    out.print(table)


@sinks_app.command("requeue")
def requeue_cmd(
    name: Annotated[str, typer.Argument(help="Destination whose failed/dead deliveries to retry.")],
    sinks_config: SinksConfigOpt = None,
    url: StoreOpt = None,
) -> None:
    """Retry failed and dead deliveries of one destination on the next pass (after a fix)."""
    from callscope.sinks.dispatch import Dispatcher

    config = _config(sinks_config)
    store = _store(url)
    try:
        n = Dispatcher(store, config, {}, check_sinks=False).requeue(name)
    finally:
        store.close()
    out.print(f"{name}: {n} deliveries requeued", highlight=False)


def _parse_time(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{flag}: not an ISO date or time: {value!r}", 2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def digest_cmd(
    kind: Annotated[str, typer.Argument(help="hourly, daily or weekly.")],
    send: Annotated[
        bool, typer.Option("--send", help="Deliver to the destinations in sinks.digests.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Report the last complete period before this ISO time."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    sinks_config: SinksConfigOpt = None,
    url: StoreOpt = None,
) -> None:
    """Build the hourly quality, daily executive or weekly rollup digest."""
    from callscope.alerts.digest import BUILDERS, build, to_text
    from callscope.sinks.base import SinkError
    from callscope.sinks.digests import send_digest

    if kind not in BUILDERS:
        raise _fail(f"unknown digest {kind!r} (hourly, daily or weekly)", 2)
    if fmt not in ("text", "json"):
        raise _fail(f"unknown --format {fmt!r} (text or json)", 2)
    when = _parse_time(at, "--at")
    config = _config(sinks_config) if send else None
    store = _store(url, read_only=not send)
    try:
        digest = build(kind, store.fetch, when)
    finally:
        store.close()
    if fmt == "json":
        from dataclasses import asdict

        typer.echo(orjson.dumps(asdict(digest), default=str, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(to_text(digest), nl=False)
    if not send:
        return
    targets = getattr(config.digests, kind) if config is not None else []
    if not targets:
        raise _fail(f"no destinations under sinks.digests.{kind}", 2)
    failed = False
    for name in targets:
        sinks = _sinks(config, name)
        try:
            send_digest(sinks[name], digest)
            err.print(f"{name}: sent", highlight=False)
        except SinkError as exc:
            failed = True
            fail_line(exc)
        finally:
            _close_all(sinks)
    if failed:
        raise typer.Exit(1)


def roi_cmd(
    since: Annotated[str | None, typer.Option("--since", help="ISO date/time (inclusive).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO date/time (exclusive).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    deal_size: Annotated[
        float | None, typer.Option("--deal-size", help="Average deal size, USD.")
    ] = None,
    close_rate: Annotated[
        float | None, typer.Option("--close-rate", help="Meeting-to-close rate, 0..1.")
    ] = None,
    sdr_hourly: Annotated[
        float | None, typer.Option("--sdr-hourly-cost", help="Loaded SDR cost per hour, USD.")
    ] = None,
    manual_minutes: Annotated[
        float | None,
        typer.Option("--manual-call-minutes", help="SDR minutes one call replaces."),
    ] = None,
    url: StoreOpt = None,
) -> None:
    """Cost per call / qualified lead / meeting, pipeline value, SDR time saved, ROI."""
    from callscope.alerts.roi import RoiError, assumptions, compute
    from callscope.cli.context import profile_or_exit

    if fmt not in ("table", "json"):
        raise _fail(f"unknown --format {fmt!r} (table or json)", 2)
    try:
        assume = assumptions(
            profile_or_exit().extra,
            avg_deal_size_usd=deal_size,
            meeting_to_close_rate=close_rate,
            sdr_hourly_cost_usd=sdr_hourly,
            manual_call_minutes=manual_minutes,
        )
    except RoiError as exc:
        raise _fail(str(exc), 2) from None
    start, end = _parse_time(since, "--since"), _parse_time(until, "--until")
    store = _store(url, read_only=True)
    try:
        report = compute(store.fetch, assume, since=start, until=end)
    finally:
        store.close()
    if fmt == "json":
        typer.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("metric", "value", title="Voice agent ROI")
    for label, value in report.rows():
        table.add_row(label, value)
    out.print(table)
    missing = [k for k, v in report.assumptions.items() if v is None]
    if missing:
        err.print(
            "unknown values need assumptions (profile extra.roi or flags): " + ", ".join(missing),
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(sinks_app)
    app.command("digest")(digest_cmd)
    app.command("roi")(roi_cmd)
