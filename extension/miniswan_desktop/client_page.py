"""The Xpra HTML5 client's page as the servers serve it: Debian's index.html with its ~30
scripts loaded as one file, and one script of ours. No jupyter_server imports.

Why one file: a browser loading the client for the first time fetched each script on its own
(6 at a time over HTTP/1.1, each through the proxies), which took most of the time between a
click and the first frame. The scripts are classic ones that share globals, so running them
concatenated, in the page's order, is what the page did; only a `"use strict"` at the top of
a later file no longer applies (code written for strict mode runs unchanged without it).
The files stay available on their own.

Xpra's protocol runs in the page, not in a web worker (`XPRA_CLIENT_FORCE_NO_WORKER`, set
after the scripts): the worker fetched and compiled six of the same libraries again, one
after the other, before the websocket opened, on every page load (about 0.1 s). Nor does
the client first start a worker to ask whether websockets work in workers (see NO_WORKER).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from .shared_data import read_shared


@cache
def client_params() -> dict[str, str]:
    """The client's URL parameters every page passes (src/client-params.json, with why)."""
    return {
        name: value for name, (value, _why) in read_shared("client-params.json")["params"].items()
    }


BUNDLE_PATH = "js/miniswan-client.js"
"""Where the concatenated scripts are served, beside the client's own files."""

# Decoders for video (h264, mpeg1) and audio (aurora), about 1.4 MB: the servers run Xpra
# with no video encoder and no audio, and every page passes video=false and sound=false
# (client_params). Only two names of theirs are read outside them, each behind a null check.
SKIPPED = ("js/lib/jsmpeg.js", "js/lib/broadway/", "js/lib/aurora/")
STUBS = b"var JSMpeg = null, AV = null;  // miniswan: the decoders are not loaded\n;\n"

# Libraries only a rare action uses, loaded 2 s after the page instead of before the client
# starts (later_loader): forge (AES encryption and password digests: the desktops are
# reached with neither), brotli (a packet compression the client offers only when its
# decoder is loaded; lz4 is offered and used instead) and jszip with FileSaver (the
# floating menu's bug report). Evaluating them was about a third of the bundle's start-up
# script time in Chromium (each file evaluated on its own, without a code cache: 48 of
# 150 ms), paid at every open of a desktop.
LATER = ("js/lib/brotli_decode.js", "js/lib/forge.js", "js/lib/FileSaver.js", "js/lib/jszip.js")
LATER_DELAY_MS = 2000

# A script of the page, e.g. <script type="text/javascript" src="js/lib/jquery.js"></script>.
_SCRIPT_TAG = re.compile(
    r'<script type="(?:text|application)/javascript" src="(js/[^"]+)"></script>[ \t]*\n?'
)

# Runs when the page is ready, before the client's own ready handler reads its `path`
# parameter and connects: the client's exact size (its #screen element, which the client
# measures too) goes on the websocket's path as `?screen=WxH`. The desktop proxy
# (desktop_proxy.py) gives the desktop's screen a mode of that size before the websocket
# reaches Xpra, which then answers the hello at once instead of adding the mode itself and
# pausing half a second (xpra.add_mode_script). Every page that loads this client (panel,
# browser tab, desktop-only page, reconnects) gets it.
SCREEN_SCRIPT = """<script>
$(document).ready(function () {
  var screen = document.getElementById("screen");
  var query = new URLSearchParams(window.location.search);
  var path = (query.get("path") || "").split("?")[0];
  if (!path || !screen || !(screen.clientWidth > 0 && screen.clientHeight > 0)) { return; }
  path += "?screen=" + screen.clientWidth + "x" + screen.clientHeight;
  query.set("path", path);
  history.replaceState(history.state, "", window.location.pathname + "?" + query);
  if (window.location.queryStringParams) { window.location.queryStringParams.path = path; }
});
</script>
"""

# Ends the bundle, after Client.js has declared XPRA_CLIENT_FORCE_NO_WORKER false: the
# protocol runs in the page, and connect() goes straight to it. Xpra 3.1's connect() first
# starts a worker (js/lib/wsworker_check.js) to ask whether websockets work in workers, and
# connects only once it answers: a script fetch and a worker start on every page load, for
# an answer the flag ignores (about 20-30 ms of a reopen, measured in Chromium's resource
# timings). This is that connect() without the check.
NO_WORKER = b"""XPRA_CLIENT_FORCE_NO_WORKER = true;  // miniswan: the protocol runs in the page
XpraClient.prototype.connect = function () {  // miniswan: no worker check (client_page.py)
  var details = this.host + ":" + this.port + this.path;
  if (this.ssl) { details += " with ssl"; }
  this.on_connection_progress("Connecting to server", details, 40);
  if (this.encryption && !this.encryption_key) {
    this.callback_close("no key specified for encryption");
    return;
  }
  this._do_connect(false);
};
"""

# Ends the bundle too: the client asks Xpra not to hold keys down for it (`keyboard_sync`
# false: a key press is a press and a release at once, and a held key repeats by the
# browser's own repeated keydowns). Xpra 3.1's HTML5 client leaves the setting at Xpra's
# default, true, which holds a key pressed in the X server until the client's key-up arrives,
# without the jitter compensation Xpra's own clients ask for (`key_repeat`): a key-up that
# came 0.7 s late (a reconnect on a busy machine; any slow network) let X's autorepeat type
# "tyyyyyyyyped" for "typed". Modifiers are still held and released as the user does.
KEYBOARD_SYNC_OFF = b"""(function () {  // miniswan: the client manages key repeat
  var makeHello = XpraClient.prototype._make_hello;
  XpraClient.prototype._make_hello = function () {
    makeHello.apply(this, arguments);
    this._update_capabilities({"keyboard_sync": false});
  };
})();
"""

# Ends the bundle too: two things the client probes in the browser as it starts, for
# features these servers never use. The AudioContext (Utilities.getAudioContext, made in
# XpraClient's constructor) only plays the bell, and Xpra runs with --bell=no; a canvas
# encoded as WebP (Utilities.canUseWebP) decides whether to offer webp, which Xpra with
# `--encodings=jpeg,png,rgb` (xpra.ENCODINGS) never sends. Chromium's CPU profile of a
# reopened desktop put them at 6.5 and 4.5 ms of the page's main thread, before it connects.
UNUSED_PROBES_OFF = b"""Utilities.getAudioContext = function () { return null; };  // miniswan
Utilities.canUseWebP = function () { return false; };  // miniswan
"""


def later_loader(paths: list[str]) -> bytes:
    """Ends the bundle: the LATER scripts, added to the page in their order
    LATER_DELAY_MS after it has loaded (relative paths: beside the page, cached alike)."""
    return (
        b"window.addEventListener('load', function () {  // miniswan: LATER (client_page.py)\n"
        b"  setTimeout(function () {\n"
        + f"    {json.dumps(paths)}.forEach(function (src) {{\n".encode()
        + b"      var script = document.createElement('script');\n"
        b"      script.src = src;\n"
        b"      script.async = false;\n"
        b"      document.head.appendChild(script);\n"
        b"    });\n" + f"  }}, {LATER_DELAY_MS});\n".encode() + b"});\n"
    )


# After the client's stylesheets, when its folder has no background.png: css/client.css puts
# `../background.png` behind the page, which Debian's xpra package does not ship, so every
# page load asked for it through both proxies and got a 404 (and a console error).
BACKGROUND = "background.png"
NO_BACKGROUND = "<style>html, body { background-image: none; }</style>\n"

REWRITE_RULES = (
    f"{BUNDLE_PATH}\n{SCREEN_SCRIPT}\n{SKIPPED}\n{NO_WORKER!r}\n{KEYBOARD_SYNC_OFF!r}"
    f"\n{UNUSED_PROBES_OFF!r}\n{later_loader(list(LATER))!r}\n{NO_BACKGROUND}"
)
"""What this module changes, for the client's version (client_files.client_version)."""


def rewrite(page: str, background: bool = True) -> tuple[str, list[str]]:
    """The page with its scripts replaced by one tag for BUNDLE_PATH (where the first of
    them was) followed by SCREEN_SCRIPT (and NO_BACKGROUND when the client has no
    `background` image), and the scripts' paths in their order. A page without such scripts
    comes back unchanged, with no paths."""
    scripts = _SCRIPT_TAG.findall(page)
    if not scripts:
        return page, []
    first = _SCRIPT_TAG.search(page)
    assert first is not None
    ours = f'<script type="text/javascript" src="{BUNDLE_PATH}"></script>\n{SCREEN_SCRIPT}'
    if not background:
        ours += NO_BACKGROUND
    head = page[: first.start()] + ours
    return head + _SCRIPT_TAG.sub("", page[first.start() :]), scripts


def bundle(www: Path, scripts: list[str]) -> bytes:
    """The scripts' text, in order, each ended so that the next starts a new statement;
    SKIPPED ones left out (STUBS first, for the names read elsewhere), LATER ones loaded
    after the page (later_loader); NO_WORKER, KEYBOARD_SYNC_OFF and UNUSED_PROBES_OFF
    last."""
    parts = [STUBS]
    later = []
    for script in scripts:
        if script.startswith(SKIPPED):
            continue
        if script in LATER:
            later.append(script)
            continue
        text = (www / script).read_bytes()
        parts.append(b"// " + script.encode() + b"\n" + text + b"\n;\n")
    tail = [NO_WORKER, KEYBOARD_SYNC_OFF, UNUSED_PROBES_OFF]
    return b"".join([*parts, *tail, *([later_loader(later)] if later else [])])
