# Sourced by the benchmark scripts: builds what they run (unless BENCH_NO_BUILD=1) and sets the class paths.
#   $cp     the tests' class path: the simulated fleets, the load generators, the JMH benchmarks
#   $tg_cp  Tiergate's: its classes and the runtime dependencies the image ships (Maven's runtime scope), and the
#           test classes for the embedded default's entry point (dev.tiergate.TestTiergateApplication, which with
#           TIERGATE_FLEET_API_SERVER set uses nothing but the JDK and those dependencies). Not the test libraries: on
#           the tests' class path openai-java's kotlin-reflect switches on springdoc's Kotlin support, and Tiergate
#           loaded 21,955 classes into 102 MB of metaspace instead of 20,573 into 98 MB (docs/benchmarks.md,
#           "Result, 2026-12-03").
# BENCH_CONTAINER=jetty: $tg_cp with Jetty in place of Tomcat (Maven profile "jetty"), for comparing memory per
# connection; the fleets and load generators keep the default class path.
if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -f target/cp.txt ] || [ ! -f target/cp-runtime.txt ]; then
	./mvnw -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -DincludeScope=test
	./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/cp-runtime.txt -DincludeScope=runtime
fi
cp="target/test-classes:target/classes:$(cat target/cp.txt)"
tg_cp="target/test-classes:target/classes:$(cat target/cp-runtime.txt)"
if [ "${BENCH_CONTAINER:-tomcat}" = jetty ]; then
	if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -f target/cp-jetty-runtime.txt ]; then
		./mvnw -B -q -Pjetty dependency:build-classpath -Dmdep.outputFile=target/cp-jetty-runtime.txt \
			-DincludeScope=runtime
	fi
	tg_cp="target/test-classes:target/classes:$(cat target/cp-jetty-runtime.txt)"
fi
