#!/usr/bin/env bash
# The end-to-end scenarios as plain `dagger call` commands, for a machine with a real engine.
# Without a dagger CLI it says so and exits 0: the engine double covers these scenarios in CI.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v dagger >/dev/null 2>&1; then
  echo "real-engine: SKIPPED: no dagger CLI on PATH (the engine double ran these scenarios in npm test)"
  exit 0
fi

# A fresh volume per run, so earlier runs on this engine do not leak in.
volume="circuit-breaker-real-engine-$(date +%s)-$$"
call() { dagger call --state-volume="$volume" "$@"; }
failures=0
check() { # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 expected=$2; shift 2
  local out status
  out=$("$@" 2>&1); status=$?
  if { [ "$expected" = ok ] && [ $status -eq 0 ]; } || { [ "$expected" = fail ] && [ $status -ne 0 ]; }; then
    echo "ok   $name"
  else
    echo "FAIL $name (exit $status)"; echo "$out" | tail -n 20; failures=$((failures + 1))
  fi
  LAST_OUT=$out
}

config=config/dagger.yaml
for i in 1 2 3 4 5; do
  check "flaky-demo failure $i runs and fails" fail call execute --workflow=flaky-demo --config="$config" --reset-timeout=20
done
start=$(date +%s)
check "6th run is rejected" fail call execute --workflow=flaky-demo --config="$config" --reset-timeout=20
case "$LAST_OUT" in *"was not run"*"Next probe allowed at"*) echo "ok   rejection names the next probe";; *) echo "FAIL rejection message"; failures=$((failures + 1));; esac
echo "     rejected in $(( $(date +%s) - start )) s"
check "status shows it open" ok call status --breaker=flaky-demo
case "$LAST_OUT" in *open*) ;; *) echo "FAIL status does not say open"; failures=$((failures + 1));; esac
sleep 21
check "probe with the service up closes it" ok call execute --workflow=flaky-demo --config="$config" --params=SERVICE_UP=true --reset-timeout=20
check "trip forces it open" ok call trip --breaker=flaky-demo
check "tripped breaker rejects" fail call execute --workflow=flaky-demo --config="$config" --params=SERVICE_UP=true
check "reset closes it" ok call reset --breaker=flaky-demo
check "closed breaker admits" ok call execute --workflow=flaky-demo --config="$config" --params=SERVICE_UP=true

echo "real-engine: $((12 - failures)) passed, $failures failed"
[ $failures -eq 0 ]
