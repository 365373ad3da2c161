"""hcekit on a phone: an NFC Forum Type 4 Tag (an NDEF URL), served with the app open or closed.

The card runs in the Python service (``service.py``), not here: this activity
only starts the service early (a warm start) and asks Android to prefer this
app's HCE service while it is in front. Hold the phone to another phone or to
a reader: it reads the URL — also after the app was closed. Build with
buildozer after ``python prepare.py`` (see docs/android.md).
"""

from __future__ import annotations

from typing import Any

from hcekit import Category, HceError
from hcekit_android import SERVICE_CLASS, AndroidNfc, start_python_service
from jnius import autoclass
from kivy.app import App
from kivy.uix.label import Label

URL = "https://example.com/hcekit"


def activity() -> Any:
    return autoclass("org.kivy.android.PythonActivity").mActivity


class TagApp(App):  # type: ignore[misc]
    nfc: AndroidNfc | None = None

    def build(self) -> Label:
        self.status = Label(text="starting…", halign="center")
        self.nfc = AndroidNfc(activity(), SERVICE_CLASS)
        try:
            state = self.nfc.state()
        except HceError as exc:
            self.status.text = f"errCode {int(exc.code)}: {exc}"
            return self.status
        if not (state.nfc_present and state.hce_supported):
            self.status.text = "this phone cannot emulate cards (no NFC or no HCE)"
        elif not start_python_service("hcekit", activity()):  # warm start
            self.status.text = "the card service did not start (see adb logcat -s hcekit)"
        else:
            self.status.text = (f"Tag ready, also with the app closed:\n{URL}"
                                + ("" if state.nfc_enabled else "\n(switch NFC on)"))
        return self.status

    def on_resume(self) -> None:
        if self.nfc is not None:
            try:
                self.nfc.prefer(activity(), [Category.OTHER])
            except HceError as exc:  # NFC switched off meanwhile: nothing to prefer
                self.status.text = f"errCode {int(exc.code)}: {exc}"

    def on_pause(self) -> bool:
        if self.nfc is not None:
            self.nfc.unprefer(activity())
        return True


if __name__ == "__main__":
    TagApp().run()
