#!/usr/bin/env bash
# The batch benchmark: one batch of small chat completions (10,000 by default) on the embedded fleet (time scale
# 0.05: 20 llama pods x 8 slots), no other traffic, the fleet in a JVM of its own (dev.tiergate.bench.FleetProcess) and
# Tiergate in another (dev.tiergate.bench.BatchBenchmark, full JIT, a 2,000-item warm-up batch first), on a redis-server of its own on a free port so that INFO commandstats
# counts Tiergate's commands only. Measures Redis commands and server time per item, and slot use sampled every
# 100 ms. Writes bench/results/batch-<date>.md and .json. Options (environment):
#   BATCH_ITEMS (10000)  BATCH_WARMUP_ITEMS (2000)  BATCH_MAX_TOKENS (64)  BATCH_TIME_SCALE (0.05)
#   BATCH_REDIS_PORT (free port from 16390)         BENCH_NO_BUILD=1 skip the build
#   BATCH_SAME_JVM=1 run the fleet inside Tiergate's JVM (as before 2026-11-30)
#   BATCH_JAVA_OPTS extra JVM options, e.g. -XX:StartFlightRecording=filename=/tmp/batch.jfr for a profile
# Further arguments go to the benchmark, e.g. --tiergate.batch.poll-interval 20ms.
set -euo pipefail
cd "$(dirname "$0")/.."

export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="$JAVA_HOME/bin/java"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
work=$(mktemp -d /tmp/tiergate-batch-bench.XXXXXX)
mkdir -p bench/results
log() { printf '%s batch-bench: %s\n' "$(date -u +%T)" "$*" >&2; }

log "class paths (bench/classpath.sh; building unless BENCH_NO_BUILD=1)"
. bench/classpath.sh

port=${BATCH_REDIS_PORT:-}
if [ -z "$port" ]; then
	for p in $(seq 16390 16420); do
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { port=$p; break; }
	done
fi
log "starting redis-server on port $port (no persistence: the measurement is Tiergate's commands)"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
	--pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fleet_pid=
cleanup() {
	[ -n "$fleet_pid" ] && kill "$fleet_pid" 2>/dev/null || true
	[ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
}
trap cleanup EXIT

fleet_args=()
if [ "${BATCH_SAME_JVM:-0}" != 1 ]; then
	log "starting the simulated fleet in its own JVM (time scale ${BATCH_TIME_SCALE:-0.05})"
	"$java" -Xms512m -Xmx1g -cp "$cp" dev.tiergate.bench.FleetProcess "${BATCH_TIME_SCALE:-0.05}" "$work/fleet.properties" \
		>"$work/fleet.log" 2>&1 &
	fleet_pid=$!
	for _ in $(seq 1 600); do [ -f "$work/fleet.properties" ] && break; sleep 0.1; done
	[ -f "$work/fleet.properties" ] || { log "the fleet did not start: $(tail -5 "$work/fleet.log")"; exit 1; }
	fleet_args=(--fleet-api-server "$(sed -n 's/^apiServer=//p' "$work/fleet.properties")")
fi

cpu_sample() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r t0 i0 < <(cpu_sample)
"$java" -Xms1g -Xmx1g ${BATCH_JAVA_OPTS:-} -cp "$cp" dev.tiergate.bench.BatchBenchmark --redis-port "$port" \
	--items "${BATCH_ITEMS:-10000}" --warmup-items "${BATCH_WARMUP_ITEMS:-2000}" \
	--max-tokens "${BATCH_MAX_TOKENS:-64}" --time-scale "${BATCH_TIME_SCALE:-0.05}" --out "$work/result.json" \
	"${fleet_args[@]}" "$@"
read -r t1 i1 < <(cpu_sample)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
idle=$(awk -v a="$((t1 - t0))" -v b="$((i1 - i0))" 'BEGIN{printf "%.1f", (a > 0) ? 100 * b / a : 0}')
redis_version=$(redis-cli -p "$port" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')

python3 - "$work/result.json" "bench/results/batch-$stamp" "$stamp" "$load_before" "$load_after" "$idle" \
	"$(nproc)" "$redis_version" "$*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
base, stamp, lb, la, idle, cpus, rv, extra = sys.argv[2:10]
r.update({"date": stamp, "loadBefore": lb, "loadAfter": la, "idleCpuPct": float(idle), "cpus": int(cpus), "redisVersion": rv})
json.dump(r, open(base + ".json", "w"), indent=1)
red, sl = r["redis"], r["slots"]
def pct(x): return "%.1f%%" % (100 * x)
out = ["# Batch benchmark, " + stamp, "",
       "Command: `bench/batch.sh %s` (%d items of max_tokens %d, time scale %s; fleet %s; Redis %s of its own; %s CPUs, load average "
       "%s before and %s after, %s%% idle CPU during the run)." % (extra, r["items"], r["maxTokens"], r["timeScale"], r.get("fleet", "in this JVM"), rv, cpus, lb, la, idle), "",
       "| measure | value |", "|---|---|",
       "| status | %s (%d completed, %d failed) |" % (r["status"], r["completed"], r["failed"]),
       "| batch duration (create to final status) | %.1f s (%.0f items/s) |" % (r["seconds"], r["itemsPerSecond"]),
       "| Redis commands per item | %.2f |" % red["commandsPerItem"],
       "| Redis server time per item (usec of every command summed: a script's inner commands count twice) | %.1f us |" % red["serverMicrosPerItem"]]
steady = sl.get("steady")
if isinstance(steady, dict):
    out += ["| ramp-up (first P2 lease to 95%% busy) | %.1f s |" % sl["rampUpSeconds"],
            "| steady window | %.1f s, %d samples |" % (steady["seconds"], steady["samples"]),
            "| slot use, steady window: mean | %s |" % pct(steady["meanBusyShare"]),
            "| slot use, steady window: samples at 95%% or more | %s |" % pct(steady["samplesAtLeast95"]),
            "| tail (no unread items left) | %.1f s |" % sl["tailSeconds"]]
else:
    out += ["| steady window | %s |" % steady]
w = sl["whole"]
out += ["| slot use, first P2 lease to the end: mean | %s (%d samples) |" % (pct(w["meanBusyShare"]), w["samples"]), "",
        "Redis commands per item, by command:", ""]
out += ["- `%s`: %s" % (k, v) for k, v in red["perCommand"].items()]
open(base + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "wrote bench/results/batch-$stamp.md and .json"
