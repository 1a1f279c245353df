# Helpers for the e2e scripts. OVERCAST_ENDPOINT is set by run.sh.
set -euo pipefail
: "${OVERCAST_ENDPOINT:?run through test/e2e/run.sh}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN

# The two aws CLIs every script runs with: v1 from PATH, v2 from Debian.
CLIS=(aws /usr/bin/aws)

fail() { echo "  FAIL: $*" >&2; exit 1; }

# require_docker ends the script, passing, when no Docker engine is
# reachable, unless OVERCAST_TEST_DOCKER=1 asks for the Docker tests to run.
require_docker() {
  docker version >/dev/null 2>&1 && return
  [ "${OVERCAST_TEST_DOCKER:-}" = 1 ] && fail "no Docker engine reachable and OVERCAST_TEST_DOCKER=1"
  echo "  skip: no Docker engine reachable"
  exit 0
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() { case "$2" in *"$3"*) ;; *) fail "$1: '$2' does not contain '$3'";; esac; }

# awsc CLI ARGS... runs one CLI against overcast.
awsc() { local cli=$1; shift; "$cli" --endpoint-url "$OVERCAST_ENDPOINT" "$@"; }

# cli_tag CLI: a short name for resource names (v1 or v2).
cli_tag() { if [ "$1" = aws ]; then echo v1; else echo v2; fi; }

# wait_for WHAT CMD...: runs CMD until it succeeds (background work in
# overcast's controllers), failing after 10 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for $what"
}
