"""Opens an HTML file in headless Chromium, as a person would, over the DevTools protocol.

`inspect_page` loads a file and reports what a reader's browser saw: console messages
and uncaught errors, every request the page made, and the size and drawn elements of
each <svg>; it also saves a screenshot. Tests skip when /usr/bin/chromium (Debian's
`chromium` package) is not installed.
"""

import base64
import json
import pathlib
import re
import subprocess
import tempfile
import time
import urllib.request

CHROMIUM = pathlib.Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
# What each <svg> holds: its rendered size and how many shapes and texts it drew with a size.
SVG_PROBE = """
Array.from(document.querySelectorAll('svg')).map((svg) => {
  const box = svg.getBoundingClientRect();
  const drawn = Array.from(svg.querySelectorAll('path, rect, line, polyline, polygon, circle, use, text'))
    .filter((node) => { const b = node.getBoundingClientRect(); return b.width > 0 || b.height > 0; });
  const titled = svg.getElementsByTagName('dc:title')[0];
  const title = titled ? titled.textContent : '';
  return {width: box.width, height: box.height, drawn: drawn.length, title: title};
})
"""


class _Session:
    """A DevTools websocket to one page: commands in order, events kept."""

    def __init__(self, url: str):
        from websockets.sync.client import connect

        self._socket = connect(url, max_size=None, open_timeout=30)
        self._next = 0
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self._next += 1
        self._socket.send(json.dumps({"id": self._next, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self.events.append(message)
            if message.get("method") == method:
                return message

    def close(self) -> None:
        self._socket.close()


def _start(profile_dir: str) -> tuple[subprocess.Popen, int]:
    browser = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile_dir}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    for line in browser.stderr:
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            return browser, int(found.group(1))
        if time.monotonic() > deadline:
            break
    browser.kill()
    raise RuntimeError("chromium did not open its DevTools port")


def _page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
        pages = [target for target in json.load(response) if target["type"] == "page"]
    return pages[0]["webSocketDebuggerUrl"]


def _problems(events: list[dict]) -> list[str]:
    """Console errors and warnings, uncaught exceptions and browser log errors."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            found.append(f"console.{params['type']}: {[arg.get('value') for arg in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            found.append(f"log {params['entry']['level']}: {params['entry']['text']}")
    return found


def inspect_page(html_file: pathlib.Path, screenshot: pathlib.Path, width: int = 1280) -> dict:
    """Loads `html_file` in headless Chromium and reports what the reader saw.

    Returns:
      {"problems": console errors, warnings and exceptions; "requests": URLs the page
      asked for besides itself and inline data: URLs; "svgs": [{"width", "height",
      "drawn", "title"}] per <svg>; "title": the document title}.
    """
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile_dir:  # Chromium may still write
        browser, port = _start(profile_dir)
        try:
            session = _Session(_page_socket(port))
            for domain in ("Page", "Runtime", "Log", "Network"):
                session.call(f"{domain}.enable")
            session.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            url = html_file.resolve().as_uri()
            session.call("Page.navigate", url=url)
            session.wait_for("Page.loadEventFired", timeout=60)
            probe = session.call("Runtime.evaluate", expression=SVG_PROBE, returnByValue=True)
            title = session.call("Runtime.evaluate", expression="document.title", returnByValue=True)
            shot = session.call(
                "Page.captureScreenshot", format="png", captureBeyondViewport=True, timeout=60
            )
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            requests = [
                event["params"]["request"]["url"]
                for event in session.events
                if event.get("method") == "Network.requestWillBeSent"
                and event["params"]["request"]["url"] != url
                and not event["params"]["request"]["url"].startswith("data:")
            ]
            session.close()
        finally:
            browser.kill()
            browser.wait(timeout=30)
    return {
        "problems": _problems(session.events),
        "requests": requests,
        "svgs": probe["result"]["value"],
        "title": title["result"]["value"],
    }
