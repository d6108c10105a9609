# Sourced by bench/run.sh and bench/cpu.sh: how busy the JIT compilers of the JVMs under test are, so that a warm-up
# can last until they are quiet (a measured run that shares the cores with C2 measures the JIT).
jit_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# jit_ms PID...: CPU milliseconds the JIT compiler threads (C1, C2) of these JVMs have used so far
jit_ms() {
	local pid task comm total=0
	for pid in "$@"; do
		for task in /proc/"$pid"/task/*; do
			comm=$(cat "$task/comm" 2>/dev/null) || continue
			case $comm in
				C1\ Compiler* | C2\ Compiler*)
					total=$((total + $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0))) ;;
			esac
		done
	done
	echo $((total * 1000 / jit_tck))
}
# warm_until_quiet LEAST MAX QUIET_PCT WARM_FN PID...: calls WARM_FN SECONDS (which puts load on the JVMs and adds the
# seconds to $warmed) for LEAST seconds, then 10 s at a time while the compilers of PID... used QUIET_PCT percent of a
# core or more in the last 10 s, until MAX; leaves the last 10 s' share in $jit_pct.
warm_until_quiet() {
	local least=$1 max=$2 quiet=$3 fn=$4 before
	shift 4
	warmed=0
	[ "$least" -gt 10 ] && "$fn" $((least - 10))
	while :; do
		before=$(jit_ms "$@")
		"$fn" 10
		jit_pct=$((($(jit_ms "$@") - before) / 100))
		[ "$jit_pct" -lt "$quiet" ] && return 0
		[ "$warmed" -ge "$max" ] && return 1
	done
}
