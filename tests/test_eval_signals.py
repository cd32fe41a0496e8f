"""The generic scorer: any profile's signals.* labels, numbers in the profile's bands."""

from __future__ import annotations

from types import SimpleNamespace as NS

from callscope.eval import profile_bands, score_signals

PROFILE = NS(
    fields={
        "age": NS(
            bands=[
                NS(min=None, max=4.999, label="<5"),
                NS(min=5, max=9.999, label="5-9"),
                NS(min=10, max=None, label="10+"),
            ]
        ),
        "kind": NS(bands=[]),
    }
)


def test_bands_from_the_profile_and_micro_f1() -> None:
    bands = profile_bands(PROFILE)
    assert set(bands) == {"signals.age"}
    gold = {
        "a": {
            "signals.age": 7,
            "signals.kind": "drain",
            "signals.rivals": ["x", "y"],
            "signals.plan": True,
            "lead.tier": "tier_2",
        },
        "b": {
            "signals.age": None,
            "signals.kind": None,
            "signals.rivals": [],
            "signals.plan": None,
            "lead.tier": "unqualified",
        },
    }
    pred = {
        "a": {
            "signals": {"age": 8, "kind": "drain", "rivals": ["x"], "plan": True},
            "lead": {"tier": "tier_2"},
        },
        "b": {
            "signals": {"age": 12, "kind": None, "rivals": ["z"], "plan": False},
            "lead": {"tier": "tier_2"},
        },
    }
    r = score_signals(gold, pred, bands)
    m = r.micro
    assert (m.tp, m.fp, m.fn) == (4, 3, 1)  # age band, kind, x, plan | age, z, plan=false | y
    assert r.acc("lead.tier") == 0.5
    assert {x.field for x in r.misses} >= {"signals.age", "signals.rivals", "signals.plan"}
