"""One contract, six backends: every sink delivers real warehouse events to its service,
classifies failures as retryable or not, and refuses event kinds it cannot carry."""

from __future__ import annotations

import socket

import pytest

from callscope.sinks.base import Event, Sink, SinkError
from tests.sinks.conftest import SINK_KINDS, Harness, make_harness


def _accepted(h: Harness, events: dict[str, Event]) -> list[Event]:
    return [events[k] for k in ("alert", "lead") if k in h.kinds]


def test_sink_satisfies_protocol(harness: Harness) -> None:
    assert isinstance(harness.sink, Sink)
    assert harness.sink.name
    assert harness.kinds == type(harness.sink).kinds  # type: ignore[attr-defined]


def test_delivers_each_accepted_event_once(harness: Harness, real_events: dict[str, Event]) -> None:
    events = _accepted(harness, real_events)
    for event in events:
        harness.sink.deliver(event)
    assert harness.received() == [harness.key(e) for e in events]


def test_refuses_kinds_it_cannot_carry(harness: Harness, real_events: dict[str, Event]) -> None:
    refused = [real_events[k] for k in ("alert", "lead") if k not in harness.kinds]
    for event in refused:
        with pytest.raises(SinkError) as info:
            harness.sink.deliver(event)
        assert not info.value.retryable
        assert "\\n" not in str(info.value)
    assert harness.received() == []


def test_transient_failure_is_retryable_then_succeeds(
    harness: Harness, real_events: dict[str, Event]
) -> None:
    event = _accepted(harness, real_events)[0]
    harness.fail_transient()
    with pytest.raises(SinkError) as info:
        harness.sink.deliver(event)
    assert info.value.retryable, str(info.value)
    harness.sink.deliver(event)
    assert harness.received() == [harness.key(event)]


def test_permanent_failure_is_not_retryable(
    harness: Harness, real_events: dict[str, Event]
) -> None:
    event = _accepted(harness, real_events)[0]
    harness.fail_permanent()
    with pytest.raises(SinkError) as info:
        harness.sink.deliver(event)
    assert not info.value.retryable, str(info.value)
    assert len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize("kind", SINK_KINDS)
def test_unreachable_service_is_retryable(
    kind: str, ca_file: str, server_tls: object, real_events: dict[str, Event]
) -> None:
    h = make_harness(kind, ca_file, server_tls)  # type: ignore[arg-type]
    h.stop()  # nothing listens on the port any more
    try:
        event = _accepted(h, real_events)[0]
        with pytest.raises(SinkError) as info:
            h.sink.deliver(event)
        assert info.value.retryable, str(info.value)
    finally:
        h.sink.close()


def test_free_port_helper_is_closed() -> None:
    from tests.sinks.conftest import free_port

    port = free_port()
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect(("127.0.0.1", port))
