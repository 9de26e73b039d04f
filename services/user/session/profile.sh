# /etc/profile.d/miniswan-session.sh: login shells (Jupyter terminals) get back the PATH of
# the session (software stack, environment script) that /etc/profile has just reset.
if [ -n "${MINISWAN_SESSION_PATH:-}" ]; then
  PATH="$MINISWAN_SESSION_PATH"
  export PATH
fi
