"""Property: whatever the tills ask, the balance follows the model and never goes negative."""

from __future__ import annotations

from hcekit.testing.loopback import loopback_rig
from hcekit_loyalty import LoyaltyPlugin
from hcekit_loyalty.protocol import UpdateOperation, UsageStatus
from hcekit_loyalty.testkeys import TEST_COLLECTOR_ID
from hcekit_loyalty.till import SmartTapTill
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

operations = st.lists(
    st.tuples(st.sampled_from([UpdateOperation.ADD_BALANCE, UpdateOperation.SUBTRACT_BALANCE]),
              st.integers(1, 60)),
    min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.integers(1, 3))
def test_balance_follows_the_model(ops: list[tuple[UpdateOperation, int]], taps: int) -> None:
    plugin = LoyaltyPlugin()
    rig = loopback_rig([plugin])
    assert plugin.book is not None
    model, counter = 0, 0
    chunks = [ops[i::taps] for i in range(taps)]
    for chunk in chunks:
        till = SmartTapTill(rig.terminal)
        with rig.terminal.tap():
            till.select()
            till.negotiate()
            card = till.get_data().loyalty[0]
            assert (card.balance, card.counter) == (model, counter)
            for op, points in chunk:
                result = till.update(op, points)
                counter += 1
                ok = op == UpdateOperation.ADD_BALANCE or points <= model
                assert result.status == (UsageStatus.SUCCESS if ok else UsageStatus.INVALID_VALUE)
                if ok:
                    model += points if op == UpdateOperation.ADD_BALANCE else -points
                assert result.balance == model >= 0 and result.counter == counter
    assert plugin.book.balance(TEST_COLLECTOR_ID) == model
    rig.close()
