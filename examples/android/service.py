"""The card itself, in python-for-android's service ``hcekit`` (``services = hcekit:service.py``).

It runs in the process ``:service_hcekit``, where the HCE service lives too
(``hcekit android manifest --python-service hcekit``). A tap starts it when
the app is closed; the app also starts it at launch so the first tap is fast.
"""

from app_plugins import PLUGINS  # written by prepare.py: NdefPlugin and any --plugin
from hcekit_android import service_main

URL = "https://example.com/hcekit"

if __name__ == "__main__":
    # copied packages carry no entry points: list the plugins explicitly
    service_main(PLUGINS, options={"ndef": {"url": URL}}, deadline_ms=1000)
