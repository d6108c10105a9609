#!/usr/bin/env bash
# Tiergate's CPU time per request on the front door, with a JFR profile: the simulated fleet in its own JVM (time
# scale 0.0001), Tiergate in another (full JIT; the image's JVM options, environment and class path: -XX:+UseG1GC
# -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000, MALLOC_ARENA_MAX=2, bench/classpath.sh), the load generator
# in a third; a closed-loop warm-up, then an open loop at a constant rate (its load generator, a new JVM, warms itself
# first with the same load: 2 s, then a second at a time until its own compilers used under BENCH_JIT_QUIET percent of
# a core for 3 s in a row, at most BENCH_LOADGEN_WARMUP_MAX (60) s, as in bench/run.sh). CPU time is Tiergate's
# process (utime + stime from /proc/<pid>/stat) over the measured run, divided by the requests answered in it (its own
# warm-up seconds included), so it holds up better than throughput when other work shares the cores. Prints one line
# and writes the recording to bench/results/cpu-<tag>-<date>.jfr.
# Options (environment): RATE (200) SECS (30) WARM (40: least warm-up seconds; it goes on 10 s at a time while the JIT
# compilers of Tiergate and the fleet used BENCH_JIT_QUIET (5) percent of a core, up to BENCH_WARMUP_MAX (300)) TAG
# (run) TG_OPTS (extra JVM options of Tiergate, e.g. -Dtiergate.proxy.upstream-client=jdk) BENCH_NO_BUILD=1 (skip the
# build) JFR_PERIOD (10ms: JFR's "profile" setting; 1ms gives ten times the execution samples, for attributing a few
# percent) CONC (a closed loop of CONC workers, i.e. the maximum rate, instead of the open loop at RATE) HISTOGRAM=1
# (Tiergate's live objects, jcmd GC.class_histogram, half-way through the measured run: its 40 largest classes beside
# the recording, -histogram.txt) THREADS=1 (each of Tiergate's threads' CPU time and context switches over the
# measured run, per request, summed by thread name with numbers dropped: which threads a request wakes, beside the
# recording, -threads.txt) LIMITS (the tenant's limits as JSON; default none, admitted without a Redis round trip;
# e.g. '{"monthlyTokenBudget":1000000000000}' runs the admission script per request) JFR=0 (no recording: JFR.start
# disturbs the first seconds of the run) SLOW_MS (with it, each measured request slower than SLOW_MS ms is listed in
# -slow.txt beside the recording's name: the wall-clock ms it ended, its latency in ms, its number; to lay the tail
# beside a collector's log, e.g. TG_OPTS=-Xlog:gc*,safepoint:file=/tmp/gc.log:utctime) IDLE=1 (no load in the measured
# SECS, which start 5 s after the warm-up's last request: every figure is per second instead of per request, the
# background work of a replica nobody calls: its timers, pollers and scrapers; with THREADS=1, which threads wake)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="$JAVA_HOME/bin/java"
RATE=${RATE:-200}; SECS=${SECS:-30}; WARM=${WARM:-40}; TAG=${TAG:-run}
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
. bench/classpath.sh
work=$(mktemp -d /tmp/tiergate-cpu.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"$java" -Xmx1g -cp "$cp" dev.tiergate.bench.FleetProcess 0.0001 "$work/fleet.properties" >"$work/fleet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 3000); do [ -f "$work/fleet.properties" ] && break; sleep 0.1; done
api=$(sed -n 's/^apiServer=//p' "$work/fleet.properties")
model=$(sed -n 's/^model=//p' "$work/fleet.properties")
MALLOC_ARENA_MAX=2 TIERGATE_FLEET_API_SERVER="$api" "$java" -Xms512m -Xmx1g -XX:+UseG1GC -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000 ${TG_OPTS:-} -cp "$tg_cp" dev.tiergate.TestTiergateApplication \
	--server.port=18080 --management.server.port=18081 --spring.data.redis.database=13 \
	--spring.data.redis.connect-timeout=5s --spring.data.redis.timeout=5s --logging.level.root=WARN >"$work/tg.log" 2>&1 &
tg=$!
pids+=($tg)
for _ in $(seq 1 1500); do curl -fsS -o /dev/null http://127.0.0.1:18080/readyz 2>/dev/null && break; sleep 0.2; done
tenant=cpu-$(date +%s)
auth=(-H 'Authorization: Bearer tgo-demo-ci' -H 'X-Requested-With: bench')
curl -fsS -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' http://127.0.0.1:18080/api/v1/tenants \
	-d "{\"id\":\"$tenant\",\"allowedTiers\":[\"P0\",\"P1\",\"P2\"],\"defaultTier\":\"P0\",\"weight\":1${LIMITS:+,\"limits\":$LIMITS}}"
key=$(curl -fsS -X POST "${auth[@]}" "http://127.0.0.1:18080/api/v1/tenants/$tenant/keys" |
	sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
. bench/jit.sh
fleet=${pids[0]}
warm() {
	"$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator --url http://127.0.0.1:18080/v1/chat/completions \
		--key "$key" --model "$model" --concurrency 20 --seconds "$1" --warmup 0 --out "$work/warmup.json" >/dev/null
	warmed=$((warmed + $1))
}
warm_until_quiet "$WARM" "${BENCH_WARMUP_MAX:-300}" "${BENCH_JIT_QUIET:-5}" warm "$fleet" "$tg" || true
j0=$(jit_ms "$tg")
cpu() { awk '{print $14 + $15}' "/proc/$tg/stat"; }
sys() { awk '{print $15}' "/proc/$tg/stat"; }
# Redis's CPU seconds (user + system), which the request path spends in the admission and settlement scripts
redis_cpu() { redis-cli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/{s += $2} END{printf "%.3f", s}'; }
base="bench/results/cpu-$TAG-$stamp"
jfr="$base.jfr"
# CONC=N: a closed loop of N workers (the maximum rate) instead of the open loop at RATE
load="--rate $RATE"
[ -n "${CONC:-}" ] && load="--concurrency $CONC"
slow=()
[ -n "${SLOW_MS:-}" ] && slow=(--slow-ms "$SLOW_MS" --slow-out "$base-slow.txt")
mkdir -p bench/results
per=request
if [ "${IDLE:-0}" = 1 ]; then
	per=second
	sleep 5
fi
if [ "${JFR:-1}" = 1 ]; then
	"$JAVA_HOME/bin/jfr" configure --input profile "jdk.ExecutionSample#period=${JFR_PERIOD:-10ms}" \
		--output "$work/cpu.jfc" >/dev/null
	"$JAVA_HOME/bin/jcmd" "$tg" JFR.start name=cpu settings="$work/cpu.jfc" filename="$(pwd)/$jfr" >/dev/null
fi
# threads_snapshot: "name cpu_ticks context_switches" per thread of Tiergate
threads_snapshot() {
	for t in /proc/"$tg"/task/*; do
		{ read -r name <"$t/comm"; awk -v n="$name" '{print n, $14 + $15}' "$t/stat"
			awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/{s += $2} END{print s}' "$t/status"; } 2>/dev/null |
			paste -d' ' - -
	done | sed 's/[0-9][0-9]*\([^ ]* [0-9]* [0-9]*\)$/N\1/; s/-[0-9][0-9]*/-N/g'
}
[ "${THREADS:-0}" = 1 ] && threads_snapshot >"$work/threads0.txt"
c0=$(cpu)
s0=$(sys)
r0=$(redis_cpu)
if [ "${HISTOGRAM:-0}" = 1 ]; then
	( sleep $((SECS / 2 + 2)); "$JAVA_HOME/bin/jcmd" "$tg" GC.class_histogram 2>&1 | head -43 >"$base-histogram.txt" ) &
fi
if [ "$per" = second ]; then
	sleep "$SECS"
else
	"$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator --url http://127.0.0.1:18080/v1/chat/completions \
		--key "$key" --model "$model" $load --seconds "$SECS" --warmup 2 --jit-quiet "${BENCH_JIT_QUIET:-5}" \
		--warmup-max "${BENCH_LOADGEN_WARMUP_MAX:-60}" \
		--out "$work/run.json" "${slow[@]}" >/dev/null
fi
c1=$(cpu)
s1=$(sys)
j1=$(jit_ms "$tg")
r1=$(redis_cpu)
[ "${THREADS:-0}" = 1 ] && threads_snapshot >"$work/threads1.txt"
[ "${JFR:-1}" = 1 ] && "$JAVA_HOME/bin/jcmd" "$tg" JFR.stop name=cpu >/dev/null
if [ "$per" = second ]; then
	n=$SECS
	load=idle
else
	n=$(python3 -c "import json; print(json.load(open('$work/run.json'))['answeredWithWarmup'])")
fi
if [ "${THREADS:-0}" = 1 ]; then
	python3 - "$work/threads0.txt" "$work/threads1.txt" "$n" "$(getconf CLK_TCK)" "$per" >"$base-threads.txt" <<'PYT'
import sys, collections
def load(path):
    sums = collections.defaultdict(lambda: [0, 0])
    for line in open(path):
        parts = line.rsplit(None, 2)
        if len(parts) == 3:
            sums[parts[0]][0] += int(parts[1]); sums[parts[0]][1] += int(parts[2])
    return sums
a, b, n, tck, per = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = [(name, (b[name][0] - a.get(name, [0, 0])[0]) * 1000.0 / tck / n, (b[name][1] - a.get(name, [0, 0])[1]) / n) for name in b]
print("%-40s %14s %18s" % ("thread (numbers dropped)", "cpu ms/" + per, "switches/" + per))
for name, cpu, sw in sorted(rows, key=lambda r: -r[2]):
    if cpu > 0.001 or sw > 0.01:
        print("%-40s %14.3f %18.2f" % (name, cpu, sw))
print("%-40s %14.3f %18.2f" % ("total", sum(r[1] for r in rows), sum(r[2] for r in rows)))
PYT
fi
ok=none
[ "$per" = request ] && ok=$(python3 -c "import json; r = json.load(open('$work/run.json')); print(r['ok'], r['errors'], r['latencyMs']['p50'], r['latencyMs']['p99'], r['throughput'])")
ticks=$(getconf CLK_TCK)
echo "tag=$TAG load=${load// /=} answered=$n ok/errors/p50ms/p99ms/per_s=$ok load=$(cut -d' ' -f1-3 /proc/loadavg)" \
	"tiergate_cpu_ms_per_$per=$(awk -v c=$((c1 - c0)) -v n="$n" -v t="$ticks" 'BEGIN{printf "%.3f", c * 1000 / t / n}')" \
	"of_which_kernel=$(awk -v c=$((s1 - s0)) -v n="$n" -v t="$ticks" 'BEGIN{printf "%.3f", c * 1000 / t / n}')" \
	"redis_cpu_ms_per_$per=$(awk -v a="$r0" -v b="$r1" -v n="$n" 'BEGIN{printf "%.3f", (b - a) * 1000 / n}')" \
	"jit_ms_per_$per=$(awk -v c=$((j1 - j0)) -v n="$n" 'BEGIN{printf "%.3f", c / n}') warmed_s=$warmed jfr=$([ "${JFR:-1}" = 1 ] && echo "$jfr" || echo none)"
