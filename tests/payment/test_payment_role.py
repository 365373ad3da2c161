"""Payment claims: listed in the PPSE, and the default-payment-app rule (WeChat code 13004)."""

from __future__ import annotations

from hcekit import Card, Category, DeviceState, ErrCode
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.wx import WxHce
from hcekit_payment import PaymentPlugin


def test_payment_plugin_claims_a_payment_aid() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore())
    ((name, claim),) = card.payment_claims()
    assert name == "payment" and claim.category is Category.PAYMENT
    assert claim.label == "HCEKIT TEST VISA" and claim.priority == 1
    assert "ppse" in card.plugins  # the core added the PPSE because of this claim
    card.close()


def test_payment_registration_needs_the_default_payment_role() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore())
    host = LoopbackHost(card, DeviceState(default_payment_app=False))
    wx = WxHce(host)
    result = wx.startHCE({"aid_list": ["A0000000041010"]})  # WeChat's category is payment
    assert result.err_code == ErrCode.NOT_DEFAULT_PAYMENT_APP
    assert int(result.err_code) == 13004
    assert Category.PAYMENT not in host.registered
    # the same app once the user made it the default payment service
    host.device.default_payment_app = True
    assert wx.startHCE({"aid_list": ["A0000000041010"]}).err_code == ErrCode.OK
    # Android replaces the payment group: the plugin's AID and the PPSE stay in it
    plugin_set = ["A0000000031010", b"2PAY.SYS.DDF01".hex().upper()]
    assert host.registered[Category.PAYMENT] == [*plugin_set, "A0000000041010"]
    assert wx.stopHCE().ok
    assert host.registered[Category.PAYMENT] == plugin_set
    card.close()
