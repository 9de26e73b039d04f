#!/bin/sh
# JupyterLab's own bundle, patched in the image: the router no longer waits for the first
# workspace save before routing on.
#
# At startup JupyterLab's router runs `apputils:load-statedb` (apputils-extension's state
# plugin), which fetches the workspace and then `await`s the workspace save, a Debouncer of
# 500 ms that every change to the state database restarts while the layout is restored. The
# file browser restores its folder and JupyterLab opens the Launcher only once the router is
# done, so every page load waited ~0.5-0.9 s with an idle CPU (Chromium trace: a 500 ms timer
# installed again and again, then the PUT of the workspace, then the Launcher). Measured on
# this 2-core machine, lab page -> Launcher with a fresh browser, server running, 6 interleaved
# pairs: 2.92 s -> 2.00 s median. The save still happens, as before, 500 ms after the last
# change; only the wait for it goes (`void` instead of `await`).
#
# The bundle is minified: the pattern is exact, so a JupyterLab upgrade that changes this code
# fails the build here instead of silently not patching. Then look again at
# packages/apputils-extension/src/index.ts (the state plugin's loadState command).
set -eu
static=/opt/jupyter/share/jupyter/lab/static
from='await _.invoke()}}),a.addCommand(h.reset'
to='void _.invoke()}}),a.addCommand(h.reset'
files=$(grep -lF "$from" "$static"/*.js || true)
count=$(printf '%s\n' "$files" | grep -c . || true)
if [ "$count" -ne 1 ]; then
  echo "no-save-wait.sh: expected the load-statedb code in exactly one bundle, found $count" >&2
  exit 1
fi
sed -i "s/await _\.invoke()}}),a\.addCommand(h\.reset/void _.invoke()}}),a.addCommand(h.reset/" "$files"
grep -qF "$to" "$files"
if grep -qF "$from" "$files"; then
  echo "no-save-wait.sh: the bundle still waits for the save" >&2
  exit 1
fi
echo "no-save-wait.sh: patched $(basename "$files")"
