# syntax=docker/dockerfile:1

# Build stage: compile with the Maven wrapper, then split the Boot jar into layers.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /workspace

# Dependencies first, so this layer is reused until pom.xml or the wrapper changes.
COPY .mvn/ .mvn/
COPY --chmod=0755 mvnw ./
COPY pom.xml ./
RUN ./mvnw -B dependency:go-offline

COPY src/ src/
RUN ./mvnw -B -DskipTests package
RUN java -Djarmode=tools -jar target/tiergate-*.jar extract --layers --launcher --destination extracted

# Runtime stage: JRE only, non-root, the layers from least to most often changed.
FROM eclipse-temurin:25-jre

# A numeric non-root user with no login shell and no home directory; the chart runs as 10001:10001 too.
RUN groupadd --gid 10001 tiergate \
	&& useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tiergate

# The application files stay owned by root: the process can read them but not change them.
WORKDIR /app
COPY --from=build /workspace/extracted/dependencies/ ./
COPY --from=build /workspace/extracted/spring-boot-loader/ ./
COPY --from=build /workspace/extracted/snapshot-dependencies/ ./
COPY --from=build /workspace/extracted/application/ ./

USER 10001:10001

# 8080: dashboard, REST and OpenAI-compatible APIs, /livez and /readyz. 8081: Actuator (metrics).
EXPOSE 8080 8081

# The heap at 70% of the container's memory limit (the JVM needs about 310 MiB besides it). G1 by name: with under
# 1792 MiB of memory (the chart's default limit is 1536Mi) or under 2 processors the JVM picks the serial collector.
# G1 starts a concurrent cycle when the old generation passes 45% of the heap (its static threshold): the adaptive
# threshold fell to 2-6% of the heap at a steady 1,000 requests/s, a cycle every ~30 s, each with a 24-89 ms remark
# pause mostly spent cleaning the code cache for class unloading (docs/benchmarks.md, "Result, 2026-12-02"). The same
# Outside the heap, glibc's malloc keeps two arenas instead of up to eight per core, and the JVM hands freed native
# memory back to the system every 5 s (the C2 compiler's arenas peak at tens of MB during warm-up and are freed after):
# 997 and 998 MiB resident at most with 10,000 held streams and a 717 MB heap, against 1,010 and 1,021 MiB without,
# runs alternated (docs/benchmarks.md, "Result, 2026-12-03"). The same flags and environment as pom.xml's Jib image
# (ImageJvmFlagsTests).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=70", "-XX:+UseG1GC", "-XX:-G1UseAdaptiveIHOP", "-XX:TrimNativeHeapInterval=5000", "--enable-native-access=ALL-UNNAMED", "org.springframework.boot.loader.launch.JarLauncher"]
