#!/bin/sh
# Prepare the eos-stub's state on first start, then run xrootd; restart it whenever the server
# keytab or the authorization database changes (xrootd re-reads the keytab only every >= 10
# minutes and the authdb every >= 60 s; a new user must not wait that long, see docs/eos.md).
set -eu
auth=/etc/eos-auth
keytab=$auth/server.keytab

install -d -m 0755 /eos/user
if [ ! -s "$keytab" ]; then
  # The hub's administrator key: creates homes, nothing else uses it.
  xrdsssadmin -u "$EOS_ADMIN_USER" -g admins -k "$EOS_ADMIN_USER" add "$auth/admin.keytab" >/dev/null
  cp "$auth/admin.keytab" "$keytab.new" && chmod 0600 "$keytab.new" && mv "$keytab.new" "$keytab"
fi
if [ ! -s "$auth/authdb" ]; then
  printf 'u %s /eos a\n' "$EOS_ADMIN_USER" > "$auth/authdb.new" && mv "$auth/authdb.new" "$auth/authdb"
fi

mtime() { stat -c %Y.%s "$keytab" "$auth/authdb" | tr "\n" " "; }
child=0
stop() { [ "$child" -eq 0 ] || kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0; }
trap stop TERM INT
while :; do
  seen=$(mtime)
  xrootd -c /etc/xrootd/miniswan.cfg -l - -n eos &
  child=$!
  while kill -0 "$child" 2>/dev/null && [ "$(mtime)" = "$seen" ]; do sleep 1; done
  if kill -0 "$child" 2>/dev/null; then
    echo "eos-stub: keys or authdb changed, restarting xrootd to load them"
    kill -TERM "$child"; wait "$child" || true
  else
    wait "$child" || true
    echo "eos-stub: xrootd exited, restarting it"; sleep 1
  fi
done
