"""Fair share (docs/scheduler.md §1): the worked table, and the invariants §7 states for it (13-18)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cluster.scheduler.fairshare import Claim, divide


def claim(
    deserved: float,
    request: float,
    weight: float = 1,
    *,
    limit: float = -1,
    priority: int = 100,
    creation: int = 0,
) -> Claim:
    return Claim(
        deserved=deserved, limit=limit, weight=weight, request=request, priority=priority, creation=creation
    )


@pytest.mark.parametrize(
    ("total", "claims", "expected"),
    [
        pytest.param(100, [claim(10, 100, 3), claim(10, 100, 1, creation=1)], [70, 30], id="weights-3-to-1"),
        pytest.param(
            10,
            [claim(2, 10), claim(2, 3, creation=1), claim(0, 10, creation=2)],
            [5, 3, 2],
            id="crumb-to-oldest",
        ),
        pytest.param(10, [claim(0, 10, creation=i) for i in range(3)], [4, 3, 3], id="three-equal"),
        pytest.param(
            12,
            [claim(0, 8, priority=200), claim(2, 12, creation=1), claim(2, 12, creation=2)],
            [8, 2, 2],
            id="higher-tier-first",
        ),
    ],
)
def test_the_worked_examples(total, claims, expected):
    assert divide(total, claims) == expected


def test_the_run_ai_docs_example_weight_three_of_six_gets_half_the_unused():
    # 20 unused GPUs, weight 3 of 6: 10 over quota on top of a deserved 6.
    shares = divide(32, [claim(6, 100, 3), claim(3, 100, 3, creation=1), claim(3, 3, 3, creation=2)])
    assert shares[0] == 16


def test_deserved_is_granted_even_when_oversubscribed_and_nothing_is_left_over():
    assert divide(4, [claim(3, 10), claim(3, 10, creation=1)]) == [3, 3]


def test_unlimited_deserved_takes_what_it_asks_for():
    assert divide(10, [claim(-1, 4), claim(0, 10, creation=1)]) == [4, 6]


def test_limit_caps_the_share():
    assert divide(10, [claim(0, 10, limit=3), claim(0, 10, creation=1)]) == [3, 7]


def test_fractional_requests_are_met_exactly():
    assert divide(1, [claim(0, 0.5), claim(0, 0.5, creation=1)]) == [0.5, 0.5]


def test_weight_zero_without_deserved_gets_nothing():
    assert divide(10, [claim(0, 10, 0), claim(0, 4, creation=1)]) == [0, 4]


claims_strategy = st.lists(
    st.builds(
        Claim,
        deserved=st.sampled_from([0, 0, 1, 2, 3, 5]),
        limit=st.sampled_from([-1, -1, -1, 5, 8]),
        weight=st.sampled_from([0, 1, 1, 2, 3]),
        request=st.sampled_from([0, 0.5, 1, 2, 4, 7, 10, 20]),
        priority=st.sampled_from([100, 100, 200]),
        creation=st.just(0),
    ),
    min_size=1,
    max_size=6,
).map(
    lambda cs: [
        Claim(
            c.deserved, max(c.limit, c.deserved) if c.limit != -1 else -1, c.weight, c.request, c.priority, i
        )
        for i, c in enumerate(cs)
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(total=st.integers(0, 30), claims=claims_strategy)
def test_shares_respect_the_bounds(total, claims):
    shares = divide(total, claims)
    guaranteed = sum(min(c.deserved, c.requestable) for c in claims)
    if guaranteed <= total:
        assert sum(shares) <= total + 1e-9  # 13
    for share, c in zip(shares, claims, strict=True):
        assert share <= c.requestable + 1e-9  # 14
        assert share >= min(c.deserved, c.requestable) - 1e-9
        if c.weight == 0 and c.deserved == 0:
            assert share == 0  # 15


@settings(max_examples=200, deadline=None, derandomize=True)
@given(total=st.integers(0, 40), weights=st.lists(st.integers(1, 4), min_size=1, max_size=6))
def test_an_unsatisfied_tier_splits_by_weight_within_one_unit(total, weights):
    claims = [claim(0, 1000, w, creation=i) for i, w in enumerate(weights)]
    shares = divide(total, claims)
    assert math.isclose(sum(shares), total)
    for share, w in zip(shares, weights, strict=True):
        assert abs(share - total * w / sum(weights)) <= 1 + 1e-9  # 16
    if len(set(weights)) == 1:
        assert max(shares) - min(shares) <= 1


@settings(max_examples=200, deadline=None, derandomize=True)
@given(total=st.integers(0, 30), claims=claims_strategy)
def test_a_higher_tier_is_served_before_a_lower_one_gets_over_quota(total, claims):
    shares = divide(total, claims)
    starved_high = any(
        c.priority == 200 and shares[i] < c.requestable - 1 for i, c in enumerate(claims) if c.weight > 0
    )
    if starved_high:
        for i, c in enumerate(claims):
            if c.priority == 100:
                assert shares[i] <= min(c.deserved, c.requestable) + 1e-9  # 17


@settings(max_examples=200, deadline=None, derandomize=True)
@given(total=st.integers(0, 30), claims=claims_strategy, data=st.data())
def test_the_input_order_does_not_matter(total, claims, data):
    order = data.draw(st.permutations(range(len(claims))))
    shuffled = divide(total, [claims[i] for i in order])
    assert [shuffled[order.index(i)] for i in range(len(claims))] == divide(total, claims)  # 18
