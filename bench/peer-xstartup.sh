#!/bin/sh
# The peer's X session: what our desktops start (an xterm, the openbox window manager).
xterm &
exec openbox
