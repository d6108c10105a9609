#!/usr/bin/env bash
# The front-door benchmark: direct to one simulated pod, nginx (least_conn over the same pods) and Tiergate, side
# by side in one run, each in its own process:
#   1. the simulated fleet (Kubernetes API stand-in + 24 simulated vLLM servers), near-zero service time;
#   2. Tiergate (the embedded default's wiring, reading that fleet through the official client), full JIT, the
#      image's JVM options and environment (-XX:+UseG1GC -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000,
#      MALLOC_ARENA_MAX=2; Dockerfile) and its class path (bench/classpath.sh);
#   3. nginx from Debian's package (installed if missing);
#   4. the load generator (dev.tiergate.bench.LoadGenerator), open loop at a constant rate, latency corrected for
#      coordinated omission, or closed loop for the maximum rate and one request at a time.
# Writes bench/results/<date>.md and .json. Options (environment):
#   BENCH_SECONDS (20) measured seconds per run   BENCH_WARMUP (30) least warm-up seconds per target before its runs;
#   the warm-up goes on, 10 s at a time, while the JIT compilers of the JVMs serving the target (the fleet; Tiergate
#   for tiergate) used more than BENCH_JIT_QUIET (5) percent of a core in the last 10 s, up to BENCH_WARMUP_MAX (300);
#   each run's load generator then warms itself with the run's load for 2 s and a second more at a time until its own
#   compilers used under BENCH_JIT_QUIET percent of a core for 3 s in a row, up to BENCH_LOADGEN_WARMUP_MAX (60)
#   seconds (not the streaming runs, whose 2 s of warm-up open the streams they hold)
#   BENCH_RATES ("500 1000 2000"; "" skips them)  BENCH_MAX_CONCURRENCY (50) workers of the maximum-rate run
#   BENCH_RATE_CONNECTIONS (unset: up to 2,000) requests outstanding at once in the constant-rate runs, and so the
#   load generator's connections (its JDK client opens one for every request sent while the others are busy); 50 is
#   wrk2's or hey's fixed set of 50 connections, where a request waiting for one counts as latency
#   BENCH_TARGETS ("direct nginx tiergate")       BENCH_NO_BUILD=1 skip the build
#   BENCH_STREAMS ("1000 10000") concurrent streams of the streaming scenario ("" skips it)
#   BENCH_STREAM_SECONDS (20) measured seconds per streaming run
#   BENCH_STREAM_TOKENS (100) and BENCH_STREAM_RATE (50) tokens per stream and tokens/s of each
#   (a stream worker turned away with Retry-After, 429 or 503, waits that long before asking again, as OpenAI's
#   clients do)
#   BENCH_SKIP_REQUESTS=1 only the streaming scenario   BENCH_LOADGEN_XMX (2g) heap of each load generator (10,000
#   streams need more than 512m)
#   BENCH_TG_OPTS extra JVM options of Tiergate (e.g. -Xmx768m)   BENCH_TG_ARGS extra application arguments of
#   Tiergate (e.g. --tiergate.proxy.stream-buffer-size=8KB), for measuring one setting against its default
#   BENCH_HISTOGRAM=1 a heap histogram of Tiergate (jcmd GC.class_histogram: its 60 largest classes and the total)
#   half-way through each streaming run, saved beside the results   BENCH_HEAP_ARRAYS=1 a heap dump of Tiergate
#   (jcmd GC.heap_dump, live objects) 20 s into each streaming run (before the histogram), read by bench/heap-arrays.py
#   into its byte and char arrays by length and holder, saved beside the results (the dump is deleted; it pauses
#   Tiergate for seconds, so the run's latencies are not comparable)   BENCH_CONTAINER (tomcat) Tiergate's servlet container: tomcat or jetty (Maven
#   profile "jetty"), for comparing memory per connection
#   BENCH_NMT=1 Tiergate with -XX:NativeMemoryTracking=summary, and its native memory by category (jcmd
#   VM.native_memory summary) half-way through each streaming run, saved beside the results: where the resident memory
#   outside the heap goes
#   BENCH_PIN=1 Tiergate and nginx on CPU 1, the fleet and the load generators on CPU 0 (taskset), so that what the
#   gateway costs the machine's other work (a fleet descheduled, a GC thread waiting for a core) is kept apart from
#   what it adds to a request; each JVM then sizes itself for one processor
#   BENCH_TENANT_LIMITS the benchmark tenant's limits as JSON (default none, which Tiergate admits without a Redis
#   round trip; e.g. '{"monthlyTokenBudget":1000000000000}' makes every request run the admission script)
# The streaming scenario runs after the others, against a second fleet of its own (dev.tiergate.bench.StreamFleetProcess:
# 40 paced servers x 256 slots, registered as vLLM pods in a Kubernetes API stand-in) and a Tiergate restarted on it.
# and `bench/run.sh --jmh` also runs the scheduler and quota JMH benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="$JAVA_HOME/bin/java"
seconds=${BENCH_SECONDS:-20}
warmup=${BENCH_WARMUP:-30}
warmup_max=${BENCH_WARMUP_MAX:-300}
jit_quiet=${BENCH_JIT_QUIET:-5}
rates=${BENCH_RATES-"500 1000 2000"}
maxc=${BENCH_MAX_CONCURRENCY:-50}
targets=${BENCH_TARGETS:-"direct nginx tiergate"}
streams=${BENCH_STREAMS-"1000 10000"}
loadgen_xmx=${BENCH_LOADGEN_XMX:-2g}
stream_seconds=${BENCH_STREAM_SECONDS:-20}
stream_tokens=${BENCH_STREAM_TOKENS:-100}
stream_rate=${BENCH_STREAM_RATE:-50}
tenant_limits=${BENCH_TENANT_LIMITS:-}
rate_connections=${BENCH_RATE_CONNECTIONS:-}
# BENCH_PIN=1: the gateway under test (Tiergate, nginx) on one core, everything else on the other
pin_gw=() pin_env=()
if [ "${BENCH_PIN:-0}" = 1 ]; then
	pin_gw=(taskset -c 1) pin_env=(taskset -c 0)
fi
# Every held stream is a socket at the load generator, two at Tiergate or nginx and one at the server.
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
jmh=0
[ "${1:-}" = "--jmh" ] && jmh=1

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
work=$(mktemp -d /tmp/tiergate-bench.XXXXXX)
mkdir -p bench/results
pids=()
cleanup() {
	for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT

log() { printf '%s bench: %s\n' "$(date -u +%T)" "$*" >&2; }

log "class paths (bench/classpath.sh; building unless BENCH_NO_BUILD=1)"
. bench/classpath.sh

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	log "installing nginx"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ! redis_up; then
	log "starting redis-server"
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
	for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
fi

log "starting the simulated fleet (its own JVM)"
"${pin_env[@]}" "$java" -Xmx1g -cp "$cp" dev.tiergate.bench.FleetProcess 0.0001 "$work/fleet.properties" >"$work/fleet.log" 2>&1 &
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
first_port=${ports%%,*}

nmt_opt=
[ "${BENCH_NMT:-0}" = 1 ] && nmt_opt=-XX:NativeMemoryTracking=summary
# start_tiergate API_SERVER [ARGS...]: Tiergate in its own JVM (full JIT) on that fleet; sets tiergate_pid.
start_tiergate() {
	local api=$1
	shift
	log "starting Tiergate (its own JVM, full JIT) against $api"
	# shellcheck disable=SC2086
	MALLOC_ARENA_MAX=2 TIERGATE_FLEET_API_SERVER="$api" "${pin_gw[@]}" "$java" -Xms512m -Xmx1g -XX:+UseG1GC -XX:-G1UseAdaptiveIHOP -XX:TrimNativeHeapInterval=5000 ${nmt_opt} ${BENCH_TG_OPTS:-} -cp "$tg_cp" \
		dev.tiergate.TestTiergateApplication \
		--server.port=18080 --management.server.port=18081 --spring.data.redis.database=13 \
		--spring.data.redis.connect-timeout=5s --spring.data.redis.timeout=5s --logging.level.root=WARN "$@" \
		${BENCH_TG_ARGS:-} \
		>>"$work/tiergate.log" 2>&1 &
	pids+=($!)
	tiergate_pid=$!
	for _ in $(seq 1 600); do
		curl -fsS -o /dev/null http://127.0.0.1:18080/readyz 2>/dev/null && break
		kill -0 "$tiergate_pid" 2>/dev/null || break
		sleep 0.2
	done
	curl -fsS -o /dev/null http://127.0.0.1:18080/readyz || { log "Tiergate did not become ready"; tail -50 "$work/tiergate.log" >&2; exit 1; }
}
start_tiergate "$api_server"

log "creating the benchmark tenant (limits: ${tenant_limits:-none})"
tenant="bench-$stamp"
tenant=$(echo "$tenant" | tr 'A-Z' 'a-z')
curl -fsS -o /dev/null -H 'Authorization: Bearer tgo-demo-ci' -H 'Content-Type: application/json' \
	-H 'X-Requested-With: bench' http://127.0.0.1:18080/api/v1/tenants \
	-d "{\"id\":\"$tenant\",\"displayName\":\"Benchmark\",\"allowedTiers\":[\"P0\",\"P1\",\"P2\"],\"defaultTier\":\"P0\",\"weight\":1${tenant_limits:+,\"limits\":$tenant_limits}}"
key=$(curl -fsS -X POST -H 'Authorization: Bearer tgo-demo-ci' -H 'Content-Type: application/json' \
	-H 'X-Requested-With: bench' "http://127.0.0.1:18080/api/v1/tenants/$tenant/keys" |
	sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { log "could not create a key"; exit 1; }

# start_nginx PORT PODS...: nginx (one worker, least_conn, keep-alive) over the pods' ports.
start_nginx() {
	local listen=$1 conf="$work/nginx-$1.conf"
	shift
	{
		echo "worker_processes 1; pid $work/nginx.pid; error_log $work/nginx-error.log warn; daemon on;"
		echo "worker_rlimit_nofile 1048576;"
		echo "events { worker_connections 65536; }"
		echo "http { access_log off; client_body_temp_path $work; proxy_temp_path $work;"
		echo "  upstream pods { least_conn; keepalive 256;"
		for p in "$@"; do echo "    server 127.0.0.1:$p max_conns=0;"; done
		echo "  }"
		echo "  server { listen 127.0.0.1:$listen; location / { proxy_pass http://pods; proxy_http_version 1.1;"
		echo "    proxy_set_header Connection \"\"; proxy_buffering off; proxy_read_timeout 300s; } } }"
	} >"$conf"
	"${pin_gw[@]}" "$nginx_bin" -c "$conf"
}
log "starting nginx (least_conn over the same 20 pods)"
start_nginx 18090 ${ports//,/ }

url_of() {
	case $1 in
		direct) echo "http://127.0.0.1:$first_port/v1/chat/completions" ;;
		nginx) echo "http://127.0.0.1:18090/v1/chat/completions" ;;
		tiergate) echo "http://127.0.0.1:18080/v1/chat/completions" ;;
	esac
}

# Redis's commands (those run inside scripts included: INFO counts them too) and its script calls (EVAL, EVALSHA,
# FCALL: each one round trip of the gateway's, or part of a pipelined one)
redis_calls() { redis-cli info commandstats | awk -F'[:=,]' '/^cmdstat_/{n += $3}
	/^cmdstat_(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro):/{s += $3} END{print n + 0, s + 0}'; }
. bench/jit.sh
# jvms_of TARGET: the JVMs whose compilers a run against TARGET waits for (the load generators start afresh per run)
jvms_of() { if [ "$1" = tiergate ]; then echo "$fleet_pid $tiergate_pid"; else echo "$fleet_pid"; fi; }
# cpu_sample: all cores' jiffies and idle jiffies, then core 1's (the gateway's core under BENCH_PIN=1)
cpu_sample() { awk '/^cpu /{a = $2+$3+$4+$5+$6+$7+$8; b = $5+$6} /^cpu1 /{c = $2+$3+$4+$5+$6+$7+$8; d = $5+$6}
	END{print a, b, c + 0, d + 0}' /proc/stat; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# load NAME TARGET ARGS...: one measured run; prints its JSON with idle CPU and Tiergate's memory added.
results="$work/results.jsonl"
: >"$results"
load() {
	local name=$1 target=$2
	shift 2
	local out="$work/$target-$name.json"
	local r0 s0 j0 jt0
	read -r r0 s0 < <(redis_calls)
	j0=$(jit_ms "$fleet_pid") jt0=$(jit_ms "$tiergate_pid")
	read -r t0 i0 g0 gi0 < <(cpu_sample)
	local w0 w1
	# the load generator's own JIT: not for the streaming runs, whose 2 s of warm-up open the streams they hold
	local quiet=(--jit-quiet "${BENCH_JIT_QUIET:-5}" --warmup-max "${BENCH_LOADGEN_WARMUP_MAX:-60}")
	case " $* " in *" --stream "*) quiet=() ;; esac
	w0=$(date +%s%N)
	"${pin_env[@]}" "$java" -Xmx"$loadgen_xmx" -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$(url_of "$target")" --key "$key" \
		--model "$model" --seconds "$seconds" --warmup 2 "${quiet[@]}" --out "$out" "$@" >/dev/null
	w1=$(date +%s%N)
	read -r t1 i1 g1 gi1 < <(cpu_sample)
	local r1 s1 j1 jt1
	j1=$(jit_ms "$fleet_pid") jt1=$(jit_ms "$tiergate_pid")
	read -r r1 s1 < <(redis_calls)
	local idle
	idle=$(awk -v a="$((t1 - t0))" -v b="$((i1 - i0))" 'BEGIN{printf "%.1f", (a > 0) ? 100 * b / a : 0}')
	local gw_idle
	gw_idle=$(awk -v a="$((g1 - g0))" -v b="$((gi1 - gi0))" 'BEGIN{printf "%.1f", (a > 0) ? 100 * b / a : 0}')
	printf '{"scenario":"%s","target":"%s","idleCpuPct":%s,"core1IdlePct":%s,"pinned":%s,"tiergateRssMiB":%d,"redisCalls":%d,"redisScriptCalls":%d,"fleetJitMs":%d,"tiergateJitMs":%d,"wallMs":%d,"warmupSeconds":%d,"result":%s}\n' \
		"$name" "$target" "$idle" "$gw_idle" "$([ ${#pin_gw[@]} -gt 0 ] && echo true || echo false)" "$(($(rss_kib "$tiergate_pid") / 1024))" "$((r1 - r0))" "$((s1 - s0))" "$((j1 - j0))" "$((jt1 - jt0))" "$(((w1 - w0) / 1000000))" "${warmed:-0}" "$(cat "$out")" >>"$results"
	log "$target $name: $(cat "$out" | head -c 300)"
}

# warm SECONDS: closed-loop load of 20 workers against $target, counted in $warmed
warm() {
	"${pin_env[@]}" "$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$(url_of "$target")" --key "$key" \
		--model "$model" --concurrency 20 --seconds "$1" --warmup 0 --out "$work/warmup.json" >/dev/null
	warmed=$((warmed + $1))
}

for target in $targets; do
	[ "${BENCH_SKIP_REQUESTS:-0}" = 1 ] && break
	# At least $warmup seconds, then 10 s more at a time while the compilers are still busy: on a slow machine C2 was
	# still compiling after 30 s, and a measured run that shares the cores with it measures the JIT.
	log "warming up $target (at least ${warmup}s, until its JVMs' compilers are quiet)"
	if ! warm_until_quiet "$warmup" "$warmup_max" "$jit_quiet" warm $(jvms_of "$target"); then
		log "$target: the compilers still used ${jit_pct}% of a core after ${warmed}s (BENCH_WARMUP_MAX)"
	fi
	log "$target warmed up in ${warmed}s (compilers at ${jit_pct}% of a core at the end)"
	load single "$target" --concurrency 1
	# The closed-loop maximum before the open-loop rates: a rate beyond a target's maximum leaves a backlog (queued
	# requests, a grown heap) that the next run would inherit; a closed loop leaves at most its workers' requests.
	load max "$target" --concurrency "$maxc"
	for rate in $rates; do
		load "rate-$rate" "$target" --rate "$rate" ${rate_connections:+--max-in-flight "$rate_connections"}
	done
done

if [ -n "$streams" ]; then
	log "streaming scenario: stopping Tiergate, nginx and the fleet of the non-streaming runs"
	kill "$tiergate_pid" "$fleet_pid" 2>/dev/null || true
	wait "$tiergate_pid" "$fleet_pid" 2>/dev/null || true
	kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	sleep 1
	log "starting the paced stream fleet (its own JVM): 40 servers x 256 slots, $stream_tokens tokens at $stream_rate/s"
	"${pin_env[@]}" "$java" -Xmx2g -cp "$cp" dev.tiergate.bench.StreamFleetProcess 40 256 "$stream_tokens" "$stream_rate" \
		"$work/streams.properties" >"$work/stream-fleet.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 600); do [ -f "$work/streams.properties" ] && break; sleep 0.1; done
	[ -f "$work/streams.properties" ] || { log "stream fleet did not start"; cat "$work/stream-fleet.log" >&2; exit 1; }
	model=$(sed -n 's/^model=//p' "$work/streams.properties")
	ports=$(sed -n 's/^ports=//p' "$work/streams.properties")
	first_port=${ports%%,*}
	start_tiergate "$(sed -n 's/^apiServer=//p' "$work/streams.properties")" \
		--server.tomcat.max-connections=30000 --server.tomcat.accept-count=10000
	start_nginx 18090 ${ports//,/ }
	for _ in $(seq 1 100); do
		[ "$(curl -fsS -H 'Authorization: Bearer tgo-demo-ci' http://127.0.0.1:18080/api/v1/endpoints 2>/dev/null |
			grep -o '"ready":true' | wc -l)" -ge 40 ] && break
		sleep 0.2
	done
	for target in $targets; do
		log "warming up $target (streams) for 10s"
		warmed=10
		"${pin_env[@]}" "$java" -Xmx512m -cp "$cp" dev.tiergate.bench.LoadGenerator --url "$(url_of "$target")" --key "$key" \
			--model "$model" --concurrency 200 --seconds 10 --warmup 0 --stream --max-tokens "$stream_tokens" \
			--out "$work/warmup.json" >/dev/null
		for c in $streams; do
			peak="$work/peak-$target-$c"
			echo 0 >"$peak"
			( while :; do r=$(rss_kib "$tiergate_pid"); [ "$r" -gt "$(cat "$peak")" ] && echo "$r" >"$peak"; sleep 0.2; done ) &
			sampler=$!
			histogram=
			if [ "${BENCH_HISTOGRAM:-0}" = 1 ] && [ "$target" = tiergate ]; then
				histogram="bench/results/streams-$c-histogram-$stamp.txt"
				( sleep $((stream_seconds / 2 + 2)); "$JAVA_HOME/bin/jcmd" "$tiergate_pid" GC.class_histogram \
					>"$histogram.full" 2>&1; { head -63 "$histogram.full"; echo ...; tail -1 "$histogram.full"; } >"$histogram"
					rm -f "$histogram.full" ) &
			fi
			if [ -n "$nmt_opt" ] && [ "$target" = tiergate ]; then
				( sleep $((stream_seconds / 2 + 1)); { echo "# Tiergate RSS $(($(rss_kib "$tiergate_pid") / 1024)) MiB";
					"$JAVA_HOME/bin/jcmd" "$tiergate_pid" VM.native_memory summary scale=MB; } \
					>"bench/results/streams-$c-nmt-$stamp.txt" 2>&1 ) &
			fi
			dumper=
			if [ "${BENCH_HEAP_ARRAYS:-0}" = 1 ] && [ "$target" = tiergate ]; then
				( sleep 20; echo "$(($(rss_kib "$tiergate_pid") / 1024))" >"$work/heap.rss"
					"$JAVA_HOME/bin/jcmd" "$tiergate_pid" GC.heap_dump "$work/heap.hprof" >/dev/null 2>&1 ) &
				dumper=$!
			fi
			seconds=$stream_seconds load "streams-$c" "$target" --concurrency "$c" --stream --max-tokens "$stream_tokens" \
				--timeout 120 --max-in-flight "$c"
			kill "$sampler" 2>/dev/null || true
			wait "$sampler" 2>/dev/null || true
			if [ -n "$dumper" ]; then
				wait "$dumper" || true
				arrays="bench/results/streams-$c-arrays-$stamp.txt"
				log "reading the heap dump into $arrays"
				{ echo "# live heap 20 s into streams-$c (bench/heap-arrays.py on jcmd GC.heap_dump); Tiergate RSS" \
					"before the dump $(cat "$work/heap.rss") MiB"; python3 bench/heap-arrays.py "$work/heap.hprof"; } \
					>"$arrays" 2>&1 || true
				rm -f "$work/heap.hprof"
			fi
			# replace the RSS at the end of the run by the peak during it, sampled, and by the kernel's high-water
			# mark of the process (VmHWM: exact, but since the process started, so it includes the earlier runs)
			python3 - "$results" "$(($(cat "$peak") / 1024))" \
				"$(($(awk '/VmHWM/{print $2}' "/proc/$tiergate_pid/status" 2>/dev/null || echo 0) / 1024))" <<'PYR'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows[-1]["tiergateRssMiB"] = int(sys.argv[2])
rows[-1]["rssIsPeak"] = True
rows[-1]["tiergateRssHighWaterMiB"] = int(sys.argv[3])
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))
PYR
		done
	done
fi

if [ "$jmh" = 1 ]; then
	log "JMH: scheduler and quota"
	"$java" -cp "$cp" org.openjdk.jmh.Main SchedulerBenchmark -f 1 -wi 3 -i 3 >"$work/jmh-scheduler.txt" 2>&1 || true
	"$java" -cp "$cp" dev.tiergate.quota.QuotaCheckBenchmark >"$work/jmh-quota.txt" 2>&1 || true
fi

python3 - "$results" "bench/results/$stamp" "$stamp" "$seconds" "$warmup" "$work" <<'PY'
import json, sys, os, shlex, subprocess
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def revision():
    git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "an unknown commit"
    return "commit " + head + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")
base, stamp, seconds, warmup, work = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
json.dump({"date": stamp, "seconds": float(seconds), "warmup": float(warmup), "runs": rows}, open(base + ".json", "w"), indent=1)
by = {(r["target"], r["scenario"]): r for r in rows}
def lat(r, k):
    v = r["result"]["latencyMs"]
    return v[k] if v else float("nan")
out = ["# Front-door benchmark, " + stamp, "",
       "Command: `%sbench/run.sh` (%ss measured per run after at least %ss of warm-up per target; fleet, Tiergate, nginx and the load"
       " generator in separate processes), on %s. Latency from the intended send time (coordinated omission corrected)."
       % ("".join("%s=%s " % (k, shlex.quote(v)) for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")),
          seconds, warmup, revision()), "",
       "Warm-up: at least %ss per target, then 10 s more at a time until the JIT compilers of the JVMs serving it (the fleet;"
       " Tiergate too for tiergate) used under %s%% of a core (BENCH_JIT_QUIET), at most %ss (BENCH_WARMUP_MAX); then each"
       " run's load generator, a JVM started afresh, warms itself with the run's own load for 2 s and then a second at a"
       " time until its own compilers used under that share of a core for 3 s in a row, at most %ss (BENCH_LOADGEN_WARMUP_MAX). The table gives"
       " the seconds of both warm-ups (target / load generator), and the compilers' share of a core (the fleet's and"
       " Tiergate's over the load generator's life, its own over the measured run: fleet / Tiergate / load generator). Redis:"
       " commands per answered request, those run inside scripts included, and in brackets the script calls (EVAL, EVALSHA),"
       " each one or part of one round trip." % (warmup, os.environ.get("BENCH_JIT_QUIET", "5"), os.environ.get("BENCH_WARMUP_MAX", "300"),
                                                 os.environ.get("BENCH_LOADGEN_WARMUP_MAX", "60")), "",
       "| scenario | target | throughput/s | errors | p50 ms | p99 ms | p99.9 ms | added p50 | added p99 | added p99.9 | idle CPU % | Tiergate RSS MiB | Redis commands (script calls)/request | warm-up s | JIT % of a core |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
stream_rows = [r for r in rows if r["scenario"].startswith("streams-")]
rows = [r for r in rows if not r["scenario"].startswith("streams-")]
for r in rows:
    d = by.get(("direct", r["scenario"]))
    add = lambda k: ("%.2f" % (lat(r, k) - lat(d, k))) if d and r["target"] != "direct" else "—"
    res = r["result"]
    answered = res["answeredWithWarmup"]
    calls = ("%.2f (%.2f)" % (r["redisCalls"] / answered, r.get("redisScriptCalls", 0) / answered)) if r["target"] == "tiergate" and answered else "—"
    idle = "%.1f" % r["idleCpuPct"] + (" (gateway's core %.1f)" % r["core1IdlePct"] if r.get("pinned") else "")
    # the fleet's and Tiergate's compilers over the load generator's whole life (its warm-up included); its own over
    # the measured run
    wall = r.get("wallMs") or (float(seconds) + 2) * 1000
    jit = lambda k: "%.1f" % (100.0 * r.get(k, 0) / wall)
    lg_jit = ("%.1f" % (res["jitMsInRun"] / (10.0 * res["seconds"]))) if "jitMsInRun" in res else "—"
    warm = "%s / %s" % (r.get("warmupSeconds", "—"), ("%.0f" % res["warmupSeconds"]) if "warmupSeconds" in res else "—")
    out.append("| %s | %s | %.0f | %d | %.2f | %.2f | %.2f | %s | %s | %s | %s | %d | %s | %s | %s |" % (
        r["scenario"], r["target"], res["throughput"], res["errors"], lat(r, "p50"), lat(r, "p99"), lat(r, "p999"),
        add("p50"), add("p99"), add("p999"), idle, r["tiergateRssMiB"], calls, warm,
        jit("fleetJitMs") + " / " + (jit("tiergateJitMs") if r["target"] == "tiergate" else "—") + " / " + lg_jit))
mx = {t: by[(t, "max")]["result"]["throughput"] for t in ("nginx", "tiergate") if (t, "max") in by}
if len(mx) == 2 and mx["nginx"] > 0:
    out += ["", "Maximum rate: Tiergate %.0f/s, nginx %.0f/s: **%.2f x nginx** (goal 0.5 x)." % (mx["tiergate"], mx["nginx"], mx["tiergate"] / mx["nginx"])]
for t in ("nginx", "tiergate"):
    r, d = by.get((t, "rate-1000")), by.get(("direct", "rate-1000"))
    if r and d:
        out.append("At 1,000/s, %s adds p99 %.2f ms over direct." % (t, lat(r, "p99") - lat(d, "p99")))
s, d = by.get(("tiergate", "single")), by.get(("direct", "single"))
if s and d:
    out.append("One request at a time: Tiergate adds %.2f ms at p50 over direct (goal 1 ms)." % (lat(s, "p50") - lat(d, "p50")))
if stream_rows:
    def fb(r, k):
        v = r["result"].get("firstByteMs")
        return v[k] if v else float("nan")
    out += ["", "Streaming: each target held C concurrent streams (closed loop, C workers), each stream %s tokens at %s tokens/s"
            " from a paced server (40 of them, 256 slots each). Held = streams answered 200 past their first byte and not yet ended, sampled"
            " every 100 ms; TTFB counts the streams answered 200 (refusals are errors). Tiergate RSS is the peak during the run (sampled every 200 ms), and the process's high-water mark (the kernel's VmHWM, since Tiergate started: it includes the runs before)." % (os.environ.get("BENCH_STREAM_TOKENS", "100"), os.environ.get("BENCH_STREAM_RATE", "50")), "",
            "| scenario | target | streams ended/s | errors | held: mean | held: min | TTFB p50 ms | TTFB p99 ms | added TTFB p50 | added TTFB p99 | end-to-end p50 s | idle CPU % | Tiergate peak RSS MiB: sampled / high-water mark |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in stream_rows:
        d = by.get(("direct", r["scenario"]))
        add = lambda k: ("%.2f" % (fb(r, k) - fb(d, k))) if d and r["target"] != "direct" else "—"
        res = r["result"]
        h = res.get("heldStreams", {})
        hwm = r.get("tiergateRssHighWaterMiB")
        out.append("| %s | %s | %.0f | %d | %.0f | %d | %.2f | %.2f | %s | %s | %.2f | %.1f | %d / %s |" % (
            r["scenario"], r["target"], res["throughput"], res["errors"], h.get("mean", 0), h.get("min", 0),
            fb(r, "p50"), fb(r, "p99"), add("p50"), add("p99"), lat(r, "p50") / 1000, r["idleCpuPct"], r["tiergateRssMiB"],
            hwm if hwm is not None else "—"))
for name in ("jmh-scheduler.txt", "jmh-quota.txt"):
    p = os.path.join(work, name)
    if os.path.exists(p):
        out += ["", "## " + name, "", "```", *[l for l in open(p).read().splitlines() if l.strip()][-15:], "```"]
open(base + ".md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "wrote bench/results/$stamp.md and .json"
