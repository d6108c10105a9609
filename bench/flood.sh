#!/usr/bin/env bash
# P0 under a P2 flood, live (issue 12): the simulated fleet at real A100 speed, Tiergate and the load generators each
# in their own process; P0 time to first byte (TTFT) and end-to-end p50/p99 alone and under the flood, slot use and
# P2 throughput alone and with P0, the machine's idle CPU during every phase (so that CPU starvation is not mistaken
# for scheduling). Per reserve placement (changed with PUT /api/v1/tiers between runs):
#   A. P0 alone: open loop at FLOOD_P0_RATE/s, streaming FLOOD_P0_TOKENS tokens, tier P0;
#   B. P2 alone: FLOOD_P2_CLIENTS closed-loop streaming clients of FLOOD_P2_TOKENS tokens, tier P2; after
#      FLOOD_WARMUP s, FLOOD_SECONDS s of P2 tokens/s and slot use (the fleet's vllm:* metrics, sampled each second);
#   C. the same flood going on, P0 again for FLOOD_SECONDS s, with P2 tokens/s and slot use over the same window.
# Options (environment): FLOOD_TIME_SCALE (1), FLOOD_SECONDS (60), FLOOD_WARMUP (30), FLOOD_P0_RATE (4),
#   FLOOD_P0_TOKENS (16), FLOOD_P2_CLIENTS (300), FLOOD_P2_TOKENS (1500), FLOOD_PLACEMENTS ("slots endpoints"),
#   FLOOD_PRIORITY (true: the tier reaches the engines as vLLM's priority; false: it does not), BENCH_NO_BUILD=1.
# Writes bench/results/flood-<date>.md and .json.
set -euo pipefail
cd "$(dirname "$0")/.."

export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="$JAVA_HOME/bin/java"
scale=${FLOOD_TIME_SCALE:-1}
seconds=${FLOOD_SECONDS:-60}
warmup=${FLOOD_WARMUP:-30}
p0_rate=${FLOOD_P0_RATE:-4}
p0_tokens=${FLOOD_P0_TOKENS:-16}
p2_clients=${FLOOD_P2_CLIENTS:-300}
p2_tokens=${FLOOD_P2_TOKENS:-1500}
placements=${FLOOD_PLACEMENTS:-"slots endpoints"}
priority=${FLOOD_PRIORITY:-true}

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
work=$(mktemp -d /tmp/tiergate-flood.XXXXXX)
mkdir -p bench/results
pids=()
cleanup() {
	for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
log() { printf '%s flood: %s\n' "$(date -u +%T)" "$*" >&2; }

log "class paths (bench/classpath.sh; building unless BENCH_NO_BUILD=1)"
. bench/classpath.sh

log "starting the simulated fleet at time scale $scale (its own JVM)"
"$java" -Xmx1g -cp "$cp" dev.tiergate.bench.FleetProcess "$scale" "$work/fleet.properties" >"$work/fleet.log" 2>&1 &
pids+=($!)
fleet_pid=$!
for _ in $(seq 1 600); do
	[ -f "$work/fleet.properties" ] && break
	kill -0 "$fleet_pid" 2>/dev/null || break
	sleep 0.1
done
[ -f "$work/fleet.properties" ] || { log "fleet did not start"; cat "$work/fleet.log" >&2; exit 1; }
api_server=$(sed -n 's/^apiServer=//p' "$work/fleet.properties")
model=$(sed -n 's/^model=//p' "$work/fleet.properties")
ports=$(sed -n 's/^llamaPorts=//p' "$work/fleet.properties")

log "starting Tiergate (its own JVM, full JIT), engine priority $priority"
MALLOC_ARENA_MAX=2 TIERGATE_FLEET_API_SERVER="$api_server" "$java" -Xms512m -Xmx1g -XX:+UseG1GC -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000 -cp "$tg_cp" dev.tiergate.TestTiergateApplication \
	--server.port=18080 --management.server.port=18081 --spring.data.redis.database=13 \
	--spring.data.redis.connect-timeout=5s --spring.data.redis.timeout=5s --logging.level.root=WARN \
	--tiergate.proxy.priority-from-pods="$priority" --tiergate.proxy.upstream-timeout=30m \
	--tiergate.proxy.upstream-idle-timeout=10m >"$work/tiergate.log" 2>&1 &
pids+=($!)
tiergate_pid=$!
for _ in $(seq 1 600); do
	curl -fsS -o /dev/null http://127.0.0.1:18080/readyz 2>/dev/null && break
	kill -0 "$tiergate_pid" 2>/dev/null || break
	sleep 0.2
done
curl -fsS -o /dev/null http://127.0.0.1:18080/readyz || { log "Tiergate did not become ready"; tail -50 "$work/tiergate.log" >&2; exit 1; }
ci='Authorization: Bearer tgo-demo-ci'
tenant=$(echo "flood-$stamp" | tr 'A-Z' 'a-z')
curl -fsS -o /dev/null -H "$ci" -H 'Content-Type: application/json' -H 'X-Requested-With: bench' \
	http://127.0.0.1:18080/api/v1/tenants \
	-d "{\"id\":\"$tenant\",\"displayName\":\"Flood\",\"allowedTiers\":[\"P0\",\"P1\",\"P2\"],\"defaultTier\":\"P0\",\"weight\":1}"
key=$(curl -fsS -X POST -H "$ci" -H 'Content-Type: application/json' -H 'X-Requested-With: bench' \
	"http://127.0.0.1:18080/api/v1/tenants/$tenant/keys" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { log "could not create a key"; exit 1; }
url=http://127.0.0.1:18080/v1/chat/completions

cpu_sample() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat; }
# fleet SECONDS OUT: P2-relevant engine figures over SECONDS, from every pod's vllm:* metrics each second.
fleet() {
	python3 - "$ports" "$1" "$2" <<'PY'
import json, sys, time, urllib.request
ports, seconds, out = sys.argv[1].split(","), float(sys.argv[2]), sys.argv[3]
def scrape():
    tokens = running = 0.0
    for p in ports:
        for line in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % p, timeout=5).read().decode().splitlines():
            if line.startswith("vllm:generation_tokens_total"): tokens += float(line.split()[-1])
            elif line.startswith("vllm:num_requests_running"): running += float(line.split()[-1])
    return tokens, running
t0, start, samples = scrape()[0], time.time(), []
while time.time() - start < seconds:
    time.sleep(1)
    samples.append(scrape()[1])
t1 = scrape()[0]
json.dump({"tokensPerSecond": (t1 - t0) / (time.time() - start), "meanRunning": sum(samples) / max(1, len(samples)),
           "slots": 8 * len(ports)}, open(out, "w"))
PY
}
# p0 NAME: the P0 load for FLOOD_SECONDS s (plus 5 s warm-up), with the idle CPU over it.
p0() {
	read -r t0 i0 < <(cpu_sample)
	"$java" -Xmx256m -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$url" --key "$key" --model "$model" \
		--tier P0 --stream --max-tokens "$p0_tokens" --rate "$p0_rate" --seconds "$seconds" --warmup 5 \
		--out "$work/$1.json" >/dev/null
	read -r t1 i1 < <(cpu_sample)
	awk -v a="$((t1 - t0))" -v b="$((i1 - i0))" 'BEGIN{printf "%.1f", (a > 0) ? 100 * b / a : 0}' >"$work/$1.idle"
}
idle_over() {
	read -r t0 i0 < <(cpu_sample)
	"$@"
	read -r t1 i1 < <(cpu_sample)
	awk -v a="$((t1 - t0))" -v b="$((i1 - i0))" 'BEGIN{printf "%.1f", (a > 0) ? 100 * b / a : 0}'
}

log "warming Tiergate up (P0 alone, 20 s)"
"$java" -Xmx256m -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$url" --key "$key" --model "$model" --tier P0 \
	--stream --max-tokens "$p0_tokens" --rate "$p0_rate" --seconds 20 --warmup 0 --out "$work/warm.json" >/dev/null
for placement in $placements; do
	curl -fsS -o /dev/null -X PUT -H "$ci" -H 'Content-Type: application/json' -H 'X-Requested-With: bench' \
		http://127.0.0.1:18080/api/v1/tiers -d "{\"P0\":{\"reservePlacement\":\"$placement\"}}"
	log "$placement: A. P0 alone"
	p0 "$placement-p0-alone"
	log "$placement: B. P2 alone ($p2_clients clients x $p2_tokens tokens), ${warmup}s warm-up"
	"$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$url" --key "$key" --model "$model" \
		--tier P2 --stream --max-tokens "$p2_tokens" --concurrency "$p2_clients" --timeout 1800 \
		--seconds $((warmup + 3 * seconds + 30)) --warmup 0 --out "$work/$placement-p2.json" >/dev/null 2>&1 &
	flood_pid=$!
	pids+=($flood_pid)
	sleep "$warmup"
	idle_over fleet "$seconds" "$work/$placement-p2-alone.fleet" >"$work/$placement-p2-alone.idle"
	log "$placement: C. P0 under the flood"
	fleet "$((seconds + 5))" "$work/$placement-p2-with-p0.fleet" &
	sampler=$!
	p0 "$placement-p0-flood"
	wait "$sampler"
	kill "$flood_pid" 2>/dev/null || true
	wait "$flood_pid" 2>/dev/null || true
	curl -fsS "http://127.0.0.1:18081/actuator/prometheus" 2>/dev/null | grep -E '^tiergate_dispatch_preemption_abort_seconds_(count|sum)' \
		>"$work/$placement-abort.txt" || true
	log "$placement: done; letting the fleet drain"
	sleep 20
done

python3 - "$work" "bench/results/flood-$stamp" "$stamp" "$placements" "$scale" "$seconds" "$warmup" "$p0_rate" \
	"$p0_tokens" "$p2_clients" "$p2_tokens" "$priority" <<'PY'
import json, sys, os
work, base, stamp, placements, scale, seconds, warmup, rate, p0t, clients, p2t, priority = sys.argv[1:]
def j(name):
    p = os.path.join(work, name)
    return json.load(open(p)) if os.path.exists(p) else None
def r(name):
    p = os.path.join(work, name)
    return open(p).read().strip() if os.path.exists(p) else "?"
rows, out = [], ["# P0 under a P2 flood, live, " + stamp, "",
    ("Command: `FLOOD_TIME_SCALE=%s FLOOD_SECONDS=%s FLOOD_WARMUP=%s FLOOD_P0_RATE=%s FLOOD_P0_TOKENS=%s FLOOD_P2_CLIENTS=%s "
     "FLOOD_P2_TOKENS=%s FLOOD_PLACEMENTS=\"%s\" FLOOD_PRIORITY=%s bench/flood.sh`; fleet, Tiergate and load generators "
     "in separate processes.") % (scale, seconds, warmup, rate, p0t, clients, p2t, placements, priority), "",
    "| placement | P0 TTFT p50 / p99 alone | under the flood | p99 x | P0 e2e p50 / p99 alone | under the flood | P0 errors | slot use with P0 | P2 tok/s alone | with P0 | ratio | idle CPU % (A / B / C) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for pl in placements.split():
    a, c = j(pl + "-p0-alone.json"), j(pl + "-p0-flood.json")
    b, d = j(pl + "-p2-alone.fleet"), j(pl + "-p2-with-p0.fleet")
    if not (a and c and b and d) or not a["firstByteMs"] or not c["firstByteMs"]:
        out.append("| %s | run incomplete | | | | | | | | | | |" % pl); continue
    ratio = c["firstByteMs"]["p99"] / a["firstByteMs"]["p99"]
    row = {"placement": pl, "p0Alone": a, "p0Flood": c, "p2Alone": b, "p2WithP0": d,
           "idle": [r(pl + "-p0-alone.idle"), r(pl + "-p2-alone.idle"), r(pl + "-p0-flood.idle")], "abort": r(pl + "-abort.txt")}
    rows.append(row)
    out.append("| %s | %.1f / %.1f ms | %.1f / %.1f ms | %.2f | %.1f / %.1f ms | %.1f / %.1f ms | %d | %.1f%% | %.0f | %.0f | %.1f%% | %s / %s / %s |" % (
        pl, a["firstByteMs"]["p50"], a["firstByteMs"]["p99"], c["firstByteMs"]["p50"], c["firstByteMs"]["p99"], ratio,
        a["latencyMs"]["p50"], a["latencyMs"]["p99"], c["latencyMs"]["p50"], c["latencyMs"]["p99"], c["errors"],
        100 * d["meanRunning"] / d["slots"], b["tokensPerSecond"], d["tokensPerSecond"],
        100 * d["tokensPerSecond"] / max(1e-9, b["tokensPerSecond"]), *row["idle"]))
json.dump(rows, open(base + ".json", "w"), indent=1)
out += ["", "Goal: P0 TTFT p99 under the flood at most 1.2 x alone, slot use at least 95%, P2 throughput at least 85% of P2 alone.",
        "Abort timing (tiergate_dispatch_preemption_abort_seconds, cumulative): " + "; ".join(r(p + "-abort.txt").replace("\n", ", ") for p in placements.split())]
open(base + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "wrote bench/results/flood-$stamp.md and .json"
