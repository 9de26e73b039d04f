#!/bin/sh
# Prepare the eos-stub's state on first start (the hub's administrator key, the TLS
# certificate), then run xrootd, restarted only if it exits. Nothing a new user needs
# changes the server: the hub signs the user a token, the authdb is static (docs/eos.md).
set -eu
auth=/etc/eos-auth
admin=eosadmin  # named in /etc/xrootd/authdb

install -d -m 0755 /eos/user
if [ ! -s "$auth/admin.keytab" ]; then
  # The hub's administrator key: creates homes, nothing else uses it.
  xrdsssadmin -u "$admin" -g admins -k "$admin" add "$auth/admin.keytab.new" >/dev/null
  chmod 0600 "$auth/admin.keytab.new" && mv "$auth/admin.keytab.new" "$auth/admin.keytab"
fi
# Left by the per-user sss keys of earlier versions: users have no sss key any more.
rm -f "$auth/server.keytab" "$auth/authdb"

if [ ! -s "$auth/tls/server.pem" ]; then
  # A CA of the stack's own and the server's certificate, made once: clients trust the CA
  # (X509_CERT_DIR), the certificate names the server as clients reach it.
  tmp=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=mini-SWAN eos-stub CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=eos-stub" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:eos-stub,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$tmp/ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
  install -d -m 0755 "$auth/certs.new" && cp "$tmp/ca.pem" "$auth/certs.new/eos-stub-ca.pem"
  openssl rehash "$auth/certs.new"
  rm -rf "$auth/certs" && mv "$auth/certs.new" "$auth/certs"
  install -d -m 0700 "$auth/tls.new"
  install -m 0600 "$tmp/server.key" "$tmp/server.pem" "$auth/tls.new/"
  rm -rf "$auth/tls" "$tmp" && mv "$auth/tls.new" "$auth/tls"
fi

child=0
stop() { [ "$child" -eq 0 ] || kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0; }
trap stop TERM INT
while :; do
  xrootd -c /etc/xrootd/miniswan.cfg -l - -n eos &
  child=$!
  wait "$child" || true
  echo "eos-stub: xrootd exited, restarting it"; sleep 1
done
