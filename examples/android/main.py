"""hcekit on a phone: an NFC Forum Type 4 Tag (an NDEF URL) served through the Android host.

Hold the phone to another phone or to a reader: it reads the URL. The same
``NdefPlugin`` runs unchanged in ``hcekit demo``, behind PC/SC, and here.
Build with buildozer after ``python prepare.py`` (see docs/android.md).
"""

from __future__ import annotations

from typing import Any

from hcekit import Card, HceError
from hcekit_android import AndroidHost, NotDefaultPaymentApp
from hcekit_ndef import NdefPlugin
from jnius import autoclass
from kivy.app import App
from kivy.uix.label import Label

URL = "https://example.com/hcekit"


def activity() -> Any:
    return autoclass("org.kivy.android.PythonActivity").mActivity


class TagApp(App):  # type: ignore[misc]
    host: AndroidHost | None = None

    def build(self) -> Label:
        self.status = Label(text="starting…", halign="center")
        card = Card([NdefPlugin], options={"ndef": {"url": URL}})
        try:
            # 1000 ms: the shim answers 6F00 itself before a reader gives up (WeChat: 1500 ms).
            self.host = AndroidHost(card, deadline_ms=1000)
            self.host.start()
        except NotDefaultPaymentApp as exc:
            # only for payment plugins: ask the user, then start again
            self.status.text = f"errCode {int(exc.code)}: {exc}"
            activity().startActivity(exc.intent)
        except HceError as exc:
            self.status.text = f"errCode {int(exc.code)}: {exc}"
        else:
            self.status.text = f"Tag ready: hold the phone to a reader\n{URL}"
        return self.status

    def on_resume(self) -> None:
        if self.host is not None:
            self.host.prefer(activity())

    def on_pause(self) -> bool:
        if self.host is not None:
            self.host.unprefer(activity())
        return True

    def on_stop(self) -> None:
        if self.host is not None:
            self.host.stop()


if __name__ == "__main__":
    TagApp().run()
