#!/usr/bin/env bash
# Runs every test. Installs PostgreSQL from Debian packages when it is missing and starts a throwaway server
# (as the postgres user, on a free port) for the tests that need a real one; stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

find_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

PG_BIN=$(find_pg_bin || true)
if [ -z "${PG_BIN:-}" ]; then
  echo "Installing PostgreSQL from Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(find_pg_bin)
fi

PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PG_DIR=$(mktemp -d /tmp/modulith-pg.XXXXXX)
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: use the postgres user the Debian package creates.
  chown postgres:postgres "$PG_DIR"
  RUN_AS=(runuser -u postgres --)
fi
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300" start >/dev/null
cleanup() { "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; }
trap cleanup EXIT
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$PG_PORT"

# Each test creates its own database on this server.
export MODULITH_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"

# A real SMTP server on loopback for the email connector test (Debian's aiosmtpd, run with the system Python).
if ! /usr/bin/python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "Installing aiosmtpd from Debian packages..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-aiosmtpd >/dev/null
fi

# The real Segment npm client, for the client compatibility test.
if ! command -v node >/dev/null 2>&1; then
  echo "Installing Node.js from Debian packages..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tests/clients/segment-node && npm install --no-audit --no-fund --silent)

dotnet build Modulith.sln -c Release -nologo -v quiet
status=0
logs=$(mktemp -d /tmp/modulith-tests.XXXXXX)
for project in tests/Modulith.UnitTests tests/Modulith.ArchitectureTests tests/Modulith.IntegrationTests; do
  log="$logs/$(basename "$project").log"
  echo "== $project"
  if ! dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=normal" > "$log" 2>&1; then
    status=1
    # Show what failed, with its message and stack.
    grep -E -A 25 "^\s*Failed [A-Z]" "$log" || tail -n 60 "$log"
  fi
  grep -E "^(Test Run (Successful|Failed|Aborted)|Total tests|\s+(Passed|Failed|Skipped):)" "$log" | tr '\n' ' ' || true
  echo
done

passed=$(cat "$logs"/*.log | grep -cE "^\s*Passed [A-Z]" || true)
failed=$(cat "$logs"/*.log | grep -cE "^\s*Failed [A-Z]" || true)
rm -rf "$logs"
echo "$passed passed, $failed failed"
exit $status
