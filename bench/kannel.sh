#!/usr/bin/env bash
# Kannel and smsgate side by side: the same N messages through each, one after the other,
# against the same simulated SMSC (target/release/smsc-sim) in the same run, so the ratio is
# taken on the same machine at the same moment. See bench/README.md.
#
#   bench/kannel.sh [N]            N messages each (default 5000; MESSAGES=N works too)
#
# Kannel: Debian's kannel package (installed if missing), bearerbox + smsbox on a
# configuration written from bench/kannel.conf.in, driven through smsbox's HTTP sendsms
# with dlr-mask=1 and a dlr-url served by target/release/examples/kannel_load, which counts
# the receipts. smsgate: `smsgate run --config bench/smsgate-vs-sim.toml`, driven by
# `smsgate bench` (or, in a build without that subcommand, examples/api_submit, with the
# receipts counted at the simulator: see SMSGATE_DRIVER).
#
# Settings (environment):
#   BINDS=1            SMPP transceiver binds, both systems (Kannel: instances)
#   WINDOW=100         unanswered submit_sm per bind (Kannel: max-pending-submits)
#   CONNECTIONS=16     HTTP keep-alive connections to sendsms (Kannel side)
#   API_CONNECTIONS=8  TCP API connections (smsgate side)
#   MSG_ID_TYPE=0x00   Kannel's msg-id-type (the default scenario's ids are decimal)
#   THROUGHPUT=0       Kannel's throughput per bind (0: none)
#   SCENARIO=fixtures/scenarios/default.toml   the simulator's scenario
#   DLR_IDLE=20        seconds without a receipt before the count stops
#   KANNEL_LOG_LEVEL=2 (warnings) for both boxes
#   NO_BUILD=1         use the binaries in target/release as they are
#   PORT_BASE=23700    the ports used: +0 SMPP, +1 simulator control, +2 bearerbox admin,
#                      +3 bearerbox's smsbox port, +4 sendsms
#   SMSGATE_DRIVER=auto|bench|api_submit   how smsgate is driven (auto: bench when the
#                      binary has it)
#   SMSGATE_BENCH_CMD  the bench command line, with @ADDR@ @TOKEN@ @PID@ @N@ @REPORT@
#                      filled in (default below)
#
# Output: a table on stdout, and bench/results/kannel-vs-smsgate-DATE.json. The work
# directory (configurations, logs, raw reports) is printed and kept.
# Exit codes: 0 done (the figures say what was missing), 1 a step failed.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

N=${MESSAGES:-${1:-5000}}
BINDS=${BINDS:-1}
WINDOW=${WINDOW:-100}
CONNECTIONS=${CONNECTIONS:-16}
API_CONNECTIONS=${API_CONNECTIONS:-8}
MSG_ID_TYPE=${MSG_ID_TYPE:-0x00}
THROUGHPUT=${THROUGHPUT:-0}
SCENARIO=${SCENARIO:-fixtures/scenarios/default.toml}
DLR_IDLE=${DLR_IDLE:-20}
KANNEL_LOG_LEVEL=${KANNEL_LOG_LEVEL:-2}
PORT_BASE=${PORT_BASE:-23700}
SMSGATE_DRIVER=${SMSGATE_DRIVER:-auto}
TOKEN=smsgate-dev-token
SMSGATE_BENCH_CMD=${SMSGATE_BENCH_CMD:-target/release/smsgate bench --gateway @ADDR@ --token @TOKEN@ --gateway-pid @PID@ --messages @N@ --connections $API_CONNECTIONS --json --no-progress --report @REPORT@}

SIM_PORT=$PORT_BASE
SIM_CONTROL_PORT=$((PORT_BASE + 1))
ADMIN_PORT=$((PORT_BASE + 2))
SMSBOX_PORT=$((PORT_BASE + 3))
SENDSMS_PORT=$((PORT_BASE + 4))
KANNEL_ACCOUNT=kannel
KANNEL_ACCOUNT_PASSWORD=kannelpw
SMSGATE_ACCOUNT=smsgate
SMSGATE_ACCOUNT_PASSWORD=secret

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'kannel.sh: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d /tmp/kannel-vs-smsgate.XXXXXX)
say "work directory $work"
declare -A started=()

# Stops a process this script started: SIGTERM, then up to 10 s for it to end.
stop() {
    local name=$1 pid=${started[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) still running after 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "started[$name]"
}
cleanup() {
    for name in smsgate smsbox bearerbox sim; do stop "$name"; done
}
trap cleanup EXIT

# Waits until a TCP port on 127.0.0.1 accepts, for up to $2 seconds.
wait_port() {
    local port=$1 secs=$2 what=$3
    for _ in $(seq $((secs * 10))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "$what is not listening on 127.0.0.1:$port after $secs s (logs in $work)"
}

# The simulator's counters, as JSON.
sim_stats() { curl -sf "http://127.0.0.1:$SIM_CONTROL_PORT/stats"; }
stat_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Waits until the simulator has exactly $1 bound sessions, for up to $2 seconds.
wait_bound() {
    local want=$1 secs=$2 have=
    for _ in $(seq $((secs * 10))); do
        have=$(sim_stats | stat_of bound_sessions) || have=
        [ "$have" = "$want" ] && return 0
        sleep 0.1
    done
    die "the simulator has ${have:-?} bound sessions, not $want, after $secs s (logs in $work)"
}

for tool in curl python3; do
    command -v "$tool" >/dev/null || die "$tool is needed (apt-get install -y $tool)"
done

# --- Kannel, from Debian -----------------------------------------------------------------
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
    say "installing kannel (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y kannel >"$work/apt.log" 2>&1 ||
        { apt-get update >>"$work/apt.log" 2>&1 && apt-get install -y kannel >>"$work/apt.log" 2>&1; } ||
        die "apt-get install kannel failed (see $work/apt.log)"
fi
# The package's own service, if it started one, would hold the default ports and the logs.
if command -v systemctl >/dev/null && systemctl is-active --quiet kannel 2>/dev/null; then
    say "stopping the kannel service the package started"
    systemctl stop kannel || true
elif [ -x /etc/init.d/kannel ]; then
    /etc/init.d/kannel stop >/dev/null 2>&1 || true
fi
kannel_version=$(dpkg-query -W -f='${Version}' kannel 2>/dev/null || echo unknown)

# --- the binaries ------------------------------------------------------------------------
if [ "${NO_BUILD:-}" != 1 ]; then
    say "cargo build --release (smsc-sim, smsgate, examples kannel_load and api_submit)"
    cargo build --release --locked -p smsc-sim --bin smsc-sim
    cargo build --release --locked --bin smsgate --example kannel_load --example api_submit
fi
for bin in target/release/smsc-sim target/release/smsgate target/release/examples/kannel_load; do
    [ -x "$bin" ] || die "$bin is missing (cargo build --release, or unset NO_BUILD)"
done

# --- the simulator -----------------------------------------------------------------------
say "simulator on 127.0.0.1:$SIM_PORT (scenario $SCENARIO)"
target/release/smsc-sim --config "$SCENARIO" \
    --smpp-addr "127.0.0.1:$SIM_PORT" --control-addr "127.0.0.1:$SIM_CONTROL_PORT" \
    --account "$KANNEL_ACCOUNT:$KANNEL_ACCOUNT_PASSWORD" \
    --account "$SMSGATE_ACCOUNT:$SMSGATE_ACCOUNT_PASSWORD" \
    >"$work/sim.out" 2>"$work/sim.log" &
started[sim]=$!
wait_port "$SIM_CONTROL_PORT" 30 "the simulator's control interface"
wait_port "$SIM_PORT" 30 "the simulator's SMPP listener"

# --- Kannel ------------------------------------------------------------------------------
sed -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" -e "s|@ADMIN_PASSWORD@|bench-admin|g" \
    -e "s|@SMSBOX_PORT@|$SMSBOX_PORT|g" -e "s|@SENDSMS_PORT@|$SENDSMS_PORT|g" \
    -e "s|@LOG_LEVEL@|$KANNEL_LOG_LEVEL|g" -e "s|@WORK@|$work|g" \
    -e "s|@BINDS@|$BINDS|g" -e "s|@SIM_HOST@|127.0.0.1|g" -e "s|@SIM_PORT@|$SIM_PORT|g" \
    -e "s|@SYSTEM_ID@|$KANNEL_ACCOUNT|g" -e "s|@PASSWORD@|$KANNEL_ACCOUNT_PASSWORD|g" \
    -e "s|@WINDOW@|$WINDOW|g" -e "s|@MSG_ID_TYPE@|$MSG_ID_TYPE|g" \
    -e "s|@THROUGHPUT@|$THROUGHPUT|g" \
    -e "s|@SENDSMS_USER@|bench|g" -e "s|@SENDSMS_PASSWORD@|bench|g" \
    bench/kannel.conf.in >"$work/kannel.conf"
grep -q '@[A-Z_]*@' "$work/kannel.conf" && die "unfilled placeholder in $work/kannel.conf"
say "bearerbox + smsbox ($BINDS bind(s), max-pending-submits $WINDOW, msg-id-type $MSG_ID_TYPE)"
/usr/sbin/bearerbox -v "$KANNEL_LOG_LEVEL" "$work/kannel.conf" >"$work/bearerbox.out" 2>&1 &
started[bearerbox]=$!
wait_port "$SMSBOX_PORT" 30 "bearerbox"
/usr/sbin/smsbox -v "$KANNEL_LOG_LEVEL" "$work/kannel.conf" >"$work/smsbox.out" 2>&1 &
started[smsbox]=$!
wait_port "$SENDSMS_PORT" 30 "smsbox's sendsms"
wait_bound "$BINDS" 30
before=$(sim_stats)
say "kannel: $N messages over $CONNECTIONS sendsms connections"
kannel_rc=0
target/release/examples/kannel_load --sendsms "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms" \
    --username bench --password bench --smsc sim --messages "$N" \
    --connections "$CONNECTIONS" --dlr-idle "$DLR_IDLE" --json \
    >"$work/kannel.json" 2>"$work/kannel_load.log" || kannel_rc=$?
[ "$kannel_rc" = 0 ] || [ "$kannel_rc" = 3 ] || die "kannel_load failed ($kannel_rc): $(cat "$work/kannel_load.log")"
after=$(sim_stats)
printf '%s\n%s\n' "$before" "$after" >"$work/kannel-sim-stats.json"
stop smsbox
stop bearerbox
wait_bound 0 15

# --- smsgate -----------------------------------------------------------------------------
driver=$SMSGATE_DRIVER
if [ "$driver" = auto ]; then
    if target/release/smsgate bench --help >/dev/null 2>&1; then driver=bench; else driver=api_submit; fi
fi
say "smsgate ($BINDS bind(s), window $WINDOW), driven by $driver"
SMSGATE_CARRIERS__SIM__BINDS__0__PORT=$SIM_PORT \
SMSGATE_CARRIERS__SIM__BINDS__0__COUNT=$BINDS \
SMSGATE_CARRIERS__SIM__BINDS__0__WINDOW=$WINDOW \
SMSGATE_CARRIERS__SIM__BINDS__0__SYSTEM_ID=$SMSGATE_ACCOUNT \
SMSGATE_CARRIERS__SIM__BINDS__0__PASSWORD=$SMSGATE_ACCOUNT_PASSWORD \
    target/release/smsgate run --config bench/smsgate-vs-sim.toml --data-dir "$work/smsgate-data" \
    --api-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 \
    </dev/null >"$work/smsgate.out" 2>"$work/smsgate.log" &
started[smsgate]=$!
addr=
for _ in $(seq 300); do
    addr=$(sed -n 's/.*api on \([^;]*\);.*/\1/p' "$work/smsgate.out" 2>/dev/null | head -1)
    [ -n "$addr" ] && break
    kill -0 "${started[smsgate]}" 2>/dev/null || die "smsgate exited: $(cat "$work/smsgate.log")"
    sleep 0.1
done
[ -n "$addr" ] || die "smsgate printed no API address in 30 s (see $work/smsgate.out)"
wait_bound "$BINDS" 30
before=$(sim_stats)
smsgate_report=$work/smsgate.json
case $driver in
    bench)
        cmd=${SMSGATE_BENCH_CMD//@ADDR@/$addr}
        cmd=${cmd//@TOKEN@/$TOKEN}
        cmd=${cmd//@PID@/${started[smsgate]}}
        cmd=${cmd//@N@/$N}
        cmd=${cmd//@REPORT@/$smsgate_report}
        say "smsgate: $cmd"
        # shellcheck disable=SC2086 # the command line is split on purpose
        $cmd >"$work/smsgate-bench.out" 2>"$work/smsgate-bench.log" ||
            die "smsgate bench failed: $(tail -5 "$work/smsgate-bench.log")"
        [ -s "$smsgate_report" ] || cp "$work/smsgate-bench.out" "$smsgate_report"
        ;;
    api_submit)
        # Acks from the client; receipts counted at the simulator (deliver_sm answered by
        # the gateway), polled every 0.1 s: a stand-in until `smsgate bench` is built in.
        acked0=$(printf '%s' "$before" | stat_of delivers_acked)
        start_ns=$(date +%s%N)
        target/release/examples/api_submit --gateway "$addr" --token "$TOKEN" \
            --messages "$N" --connections "$API_CONNECTIONS" >"$work/api_submit.out" 2>&1 ||
            die "api_submit failed: $(tail -5 "$work/api_submit.out")"
        line=$(grep 'connection(s):' "$work/api_submit.out" | tail -1)
        accept_secs=$(printf '%s' "$line" | sed -n 's/.* submits in \([0-9.]*\) s = .*/\1/p')
        accepted=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) submits in .*/\1/p')
        receipts=0 last_ns=$start_ns idle_since=$(date +%s)
        while :; do
            now=$(sim_stats | stat_of delivers_acked)
            got=$((now - acked0))
            if [ "$got" -gt "$receipts" ]; then
                receipts=$got last_ns=$(date +%s%N) idle_since=$(date +%s)
            fi
            [ "$receipts" -ge "$N" ] && break
            [ $(( $(date +%s) - idle_since )) -ge "$DLR_IDLE" ] && break
            sleep 0.1
        done
        python3 - "$N" "${accepted:-0}" "${accept_secs:-0}" "$receipts" "$start_ns" "$last_ns" \
            "$API_CONNECTIONS" >"$smsgate_report" <<'EOF'
import json, sys
n, accepted, accept_secs, receipts, start_ns, last_ns, conns = sys.argv[1:]
n, accepted, receipts = int(n), int(accepted), int(receipts)
accept_secs = float(accept_secs)
receipt_secs = (int(last_ns) - int(start_ns)) / 1e9
print(json.dumps({
    "system": "smsgate", "driver": "api_submit", "messages": n, "connections": int(conns),
    "accepted": accepted, "accept_secs": accept_secs,
    "accepted_per_sec": accepted / accept_secs if accept_secs > 0 else 0,
    "receipts": receipts, "receipt_secs": receipt_secs,
    "receipts_per_sec": receipts / receipt_secs if receipt_secs > 0 else 0,
    "receipts_counted_at": "simulator (deliver_sm answered by the gateway), polled every 0.1 s",
    "missing": max(accepted - receipts, 0),
}))
EOF
        ;;
    *) die "SMSGATE_DRIVER must be auto, bench or api_submit, not $driver" ;;
esac
after=$(sim_stats)
printf '%s\n%s\n' "$before" "$after" >"$work/smsgate-sim-stats.json"
stop smsgate
stop sim

# --- the table and the report ------------------------------------------------------------
mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/kannel-vs-smsgate-$stamp.json
python3 - "$work" "$out" "$N" "$BINDS" "$WINDOW" "$MSG_ID_TYPE" "$THROUGHPUT" "$SCENARIO" \
    "$kannel_version" "$driver" "$CONNECTIONS" "$API_CONNECTIONS" <<'EOF'
import json, os, re, sys
work, out, n, binds, window, msg_id_type, throughput, scenario, kver, driver, conns, api_conns = sys.argv[1:]

def load(path):
    text = open(path).read().strip()
    # A report file, or the last JSON line of the command's output.
    for chunk in [text] + text.splitlines()[::-1]:
        try:
            return json.loads(chunk)
        except ValueError:
            continue
    raise SystemExit(f"kannel.sh: no JSON in {path}")

def flat(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flat(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], value

def pick(report, *patterns):
    """The first number whose flattened key matches one of the patterns, in their order."""
    items = [(k, v) for k, v in flat(report) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    for pattern in patterns:
        for k, v in items:
            if re.search(pattern, k, re.I):
                return v
    return None

def sim_delta(path):
    before, after = [json.loads(line) for line in open(path).read().splitlines()[:2]]
    return {k: after[k] - before[k] for k in ("submits_accepted", "receipts_queued", "delivers_acked", "delivers_resent") if k in after}

kannel = load(os.path.join(work, "kannel.json"))
smsgate = load(os.path.join(work, "smsgate.json"))
rows = {}
def exact(report, path):
    """The value at a dotted path of the report, or None."""
    for part in path.split("."):
        if not isinstance(report, dict) or part not in report:
            return None
        report = report[part]
    return report

for name, r in (("kannel", kannel), ("smsgate", smsgate)):
    if r.get("version") == 1 and "counts" in r and "throughput" in r:
        # `smsgate bench`'s report (docs/performance.md, "The report"): its own keys.
        rows[name] = {
            "accepted_per_sec": exact(r, "throughput.accepted_per_s"),
            "receipts_per_sec": exact(r, "throughput.receipted_per_s"),
            "accepted": exact(r, "counts.accepted"),
            "receipts": exact(r, "counts.receipted"),
            "missing": exact(r, "counts.missing_receipts"),
        }
        continue
    accepted = pick(r, r"^accepted$", r"accepted\b(?!.*(per|/s|rate|secs))")
    receipts = pick(r, r"^receipts$", r"receipts?(_count)?$")
    rows[name] = {
        "accepted_per_sec": pick(r, r"accepted_per_s", r"accept.*(per|/s|rate)"),
        "receipts_per_sec": pick(r, r"receipts_per_s", r"receipt.*(per|/s|rate)"),
        "accepted": accepted,
        "receipts": receipts,
        "missing": pick(r, r"missing") if pick(r, r"missing") is not None
                   else (accepted - receipts if accepted is not None and receipts is not None else None),
    }
report = {
    "date": os.path.basename(out)[len("kannel-vs-smsgate-"):-len(".json")],
    "messages": int(n),
    "settings": {
        "binds": int(binds), "window": int(window), "kannel_msg_id_type": msg_id_type,
        "kannel_throughput": int(throughput), "scenario": scenario, "kannel_version": kver,
        "kannel_sendsms_connections": int(conns), "smsgate_driver": driver,
        "smsgate_api_connections": int(api_conns),
    },
    "summary": rows,
    "kannel": kannel,
    "smsgate": smsgate,
    "simulator": {
        "kannel": sim_delta(os.path.join(work, "kannel-sim-stats.json")),
        "smsgate": sim_delta(os.path.join(work, "smsgate-sim-stats.json")),
    },
}
with open(out, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")

def cell(v, fmt="{:,.0f}"):
    return "-" if v is None else fmt.format(v)

print(f"\n{n} messages each; {binds} bind(s), window {window}; scenario {scenario}; kannel {kver}; smsgate driven by {driver}")
print(f"{'':14}{'kannel':>12}{'smsgate':>12}{'ratio':>8}")
for key, label in (("accepted_per_sec", "accepted/s"), ("receipts_per_sec", "receipts/s"), ("missing", "missing")):
    k, s = rows["kannel"][key], rows["smsgate"][key]
    ratio = f"{s / k:.2f}x" if key != "missing" and k and s else ""
    print(f"{label:14}{cell(k):>12}{cell(s):>12}{ratio:>8}")
print(f"simulator: kannel {report['simulator']['kannel']}, smsgate {report['simulator']['smsgate']}")
print(f"report: {out}")
EOF
say "logs and raw reports kept in $work"
