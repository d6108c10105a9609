#!/usr/bin/env bash
# The replicas benchmark (issue 15): slot handover after a replica dies, and the aggregate maximum rate of two
# replicas against one. Everything in processes of their own: a redis-server on a free port (not the machine's), the
# simulated fleet (dev.tiergate.bench.FleetProcess, time scale 0.0001 so the pods answer at once and Tiergate is the
# bottleneck), Tiergate replicas (dev.tiergate.TestTiergateApplication with tiergate.replicas.enabled, one fleet name
# per run), each pinned to a core of its own with taskset when the machine has enough, and LoadGenerator processes.
#   1. one replica: warm-up, then the maximum rate (closed loop, REPLICAS_CONCURRENCY workers);
#   2. a second replica joins: warm-up of both, then both at once, one load generator per replica; the aggregate is
#      the sum of their rates (goal: 1.7 x step 1);
#   3. the second replica is killed (SIGKILL): the time until the first holds every slot of the fleet in the ledger
#      (goal: under 2 x the heartbeat TTL), polled in Redis every ~10 ms.
# Only meaningful on a quiet machine with at least 4 cores (2 replicas, the load generators, Redis and the fleet).
# Writes bench/results/replicas-<date>.md and .json. Options (environment):
#   REPLICAS_SECONDS (20)  REPLICAS_WARMUP (20)  REPLICAS_CONCURRENCY (50)  REPLICAS_TTL (3s)  REPLICAS_SYNC (300ms)
#   BENCH_NO_BUILD=1 skip the build
set -euo pipefail
cd "$(dirname "$0")/.."

export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="$JAVA_HOME/bin/java"
seconds=${REPLICAS_SECONDS:-20}
warmup=${REPLICAS_WARMUP:-20}
conc=${REPLICAS_CONCURRENCY:-50}
ttl=${REPLICAS_TTL:-3s}
sync=${REPLICAS_SYNC:-300ms}
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
fleet_name="bench-$(date -u +%s)"
work=$(mktemp -d /tmp/tiergate-replicas-bench.XXXXXX)
mkdir -p bench/results
pids=()
cleanup() {
	for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
	[ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT
log() { printf '%s replicas-bench: %s\n' "$(date -u +%T)" "$*" >&2; }
free_port() {
	for p in $(seq "$1" "$(($1 + 60))"); do
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
}

log "class paths (bench/classpath.sh; building unless BENCH_NO_BUILD=1)"
. bench/classpath.sh
cpus=$(nproc)
pin() { # pin CORE: taskset prefix when there are cores to spare
	if [ "$cpus" -ge 4 ]; then echo "taskset -c $1"; fi
}

redis_port=$(free_port 16430)
log "starting redis-server on port $redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
	--pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
rcli() { redis-cli -p "$redis_port" "$@"; }

log "starting the simulated fleet"
"$java" -Xmx1g -cp "$cp" dev.tiergate.bench.FleetProcess 0.0001 "$work/fleet.properties" >"$work/fleet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -f "$work/fleet.properties" ] && break; sleep 0.1; done
[ -f "$work/fleet.properties" ] || { log "fleet did not start"; cat "$work/fleet.log" >&2; exit 1; }
api_server=$(sed -n 's/^apiServer=//p' "$work/fleet.properties")
model=$(sed -n 's/^model=//p' "$work/fleet.properties")

# replica NAME CORE: starts one replica, prints "pid port"
replica() {
	local name=$1 core=$2 port mport
	port=$(free_port $((18100 + core * 100)))
	mport=$(free_port $((port + 1)))
	# shellcheck disable=SC2046
	MALLOC_ARENA_MAX=2 TIERGATE_FLEET_API_SERVER="$api_server" $(pin "$core") "$java" -Xms512m -Xmx1g -XX:+UseG1GC -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000 -cp "$tg_cp" \
		dev.tiergate.TestTiergateApplication --server.port="$port" --management.server.port="$mport" \
		--spring.data.redis.port="$redis_port" --spring.data.redis.timeout=5s --spring.data.redis.connect-timeout=5s \
		--tiergate.replica.id="$name" --tiergate.replicas.enabled=true --tiergate.replicas.fleet="$fleet_name" \
		--tiergate.replicas.heartbeat-ttl="$ttl" --tiergate.replicas.sync-interval="$sync" \
		--logging.level.root=WARN >"$work/$name.log" 2>&1 &
	local pid=$!
	for _ in $(seq 1 600); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { log "$name did not start"; tail -40 "$work/$name.log" >&2; exit 1; }
	echo "$pid $port"
}

read -r pid_a port_a < <(replica bench-a 0)
pids+=("$pid_a")
log "replica bench-a on port $port_a"

tenant="replicas-$(date -u +%s)"
curl -fsS -o /dev/null -H 'Authorization: Bearer tgo-demo-ci' -H 'Content-Type: application/json' \
	-H 'X-Requested-With: bench' "http://127.0.0.1:$port_a/api/v1/tenants" \
	-d "{\"id\":\"$tenant\",\"displayName\":\"Replicas benchmark\",\"allowedTiers\":[\"P0\",\"P1\",\"P2\"],\"defaultTier\":\"P1\",\"weight\":1}"
key=$(curl -fsS -X POST -H 'Authorization: Bearer tgo-demo-ci' -H 'Content-Type: application/json' \
	-H 'X-Requested-With: bench' "http://127.0.0.1:$port_a/api/v1/tenants/$tenant/keys" |
	sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { log "could not create a key"; exit 1; }

# gen PORT SECONDS WARMUP OUT CORE
gen() {
	# shellcheck disable=SC2046
	$(pin "$5") "$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator \
		--url "http://127.0.0.1:$1/v1/chat/completions" --key "$key" --model "$model" --concurrency "$conc" \
		--seconds "$2" --warmup "$3" --out "$4" >/dev/null
}
rate_of() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.1f" % (r["ok"] / r["seconds"]))' "$1"; }

log "one replica: warm-up ${warmup}s, then ${seconds}s at concurrency $conc"
gen "$port_a" "$warmup" 0 "$work/warmup-a.json" 2
gen "$port_a" "$seconds" 2 "$work/one.json" 2
one=$(rate_of "$work/one.json")
log "one replica: $one requests/s"

read -r pid_b port_b < <(replica bench-b 1)
pids+=("$pid_b")
log "replica bench-b on port $port_b; warm-up of both"
gen "$port_b" "$warmup" 0 "$work/warmup-b.json" 3 &
gen "$port_a" "$warmup" 0 "$work/warmup-a2.json" 2
wait "$!" || true
gen "$port_a" "$seconds" 2 "$work/two-a.json" 2 &
gen_a=$!
gen "$port_b" "$seconds" 2 "$work/two-b.json" 3
wait "$gen_a"
two=$(python3 -c "print('%.1f' % ($(rate_of "$work/two-a.json") + $(rate_of "$work/two-b.json")))")
log "two replicas: $two requests/s"

prefix="tg:replicas:{$fleet_name}:"
name_a=$(rcli smembers "${prefix}members" | grep '^bench-a' | head -1)
held_a() { rcli hvals "${prefix}held:$name_a" | awk '{s += $1} END {print s + 0}'; }
held_all() {
	local s=0
	for m in $(rcli smembers "${prefix}members"); do
		s=$((s + $(rcli hvals "${prefix}held:$m" | awk '{t += $1} END {print t + 0}')))
	done
	echo "$s"
}
total=$(held_all)
log "killing bench-b (SIGKILL); the fleet holds $total slots, bench-a $(held_a)"
t0=$(date +%s%N)
kill -9 "$pid_b"
handover_ms=""
for _ in $(seq 1 3000); do
	if [ "$(held_a)" -ge "$total" ]; then
		handover_ms=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.01
done
log "handover: ${handover_ms:-none} ms (heartbeat TTL $ttl)"

python3 - "$work" "bench/results/replicas-$stamp" "$stamp" "$one" "$two" "${handover_ms:-null}" "$ttl" "$sync" \
	"$conc" "$seconds" "$cpus" "$(cut -d' ' -f1-3 /proc/loadavg)" "$total" <<'PY'
import json, sys
work, base, stamp, one, two, handover, ttl, sync, conc, seconds, cpus, load, total = sys.argv[1:14]
def ms(d):
    return float(d[:-2]) if d.endswith("ms") else float(d[:-1]) * 1000
r = {"date": stamp, "oneReplicaRate": float(one), "twoReplicasRate": float(two),
     "ratio": float(two) / float(one) if float(one) > 0 else None, "handoverMs": None if handover == "null" else int(handover),
     "heartbeatTtl": ttl, "syncInterval": sync, "concurrencyPerGenerator": int(conc), "seconds": int(seconds),
     "cpus": int(cpus), "loadAverageAfter": load, "slots": int(total)}
json.dump(r, open(base + ".json", "w"), indent=1)
goal_h = 2 * ms(ttl)
out = ["# Replicas benchmark, " + stamp, "",
       "Command: `bench/replicas.sh` (%s s per measurement, %s workers per load generator, heartbeat TTL %s, sync every %s; "
       "%s CPUs, load average %s after)." % (seconds, conc, ttl, sync, cpus, load), "",
       "| measure | value | goal |", "|---|---|---|",
       "| maximum rate, one replica | %.1f requests/s | |" % r["oneReplicaRate"],
       "| maximum rate, two replicas (sum) | %.1f requests/s | |" % r["twoReplicasRate"],
       "| two / one | %s | 1.7 x |" % ("%.2f x" % r["ratio"] if r["ratio"] else "n/a"),
       "| slot handover after a replica is killed (%s slots) | %s | under %.0f ms (2 x TTL) |" % (total, "%d ms" % r["handoverMs"] if r["handoverMs"] is not None else "not seen", goal_h)]
if int(cpus) < 4:
    out += ["", "Fewer than 4 CPUs: the replicas were not pinned to cores of their own, so the rate ratio says little."]
open(base + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "wrote bench/results/replicas-$stamp.md and .json"
