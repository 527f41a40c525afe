# Sluice on Eclipse Temurin's Java 17 runtime. Build the jar first, then the image:
#   ./mvnw -B -q -DskipTests package
#   docker build -t sluice:latest .
# Run it with your own config mounted over the default (configs/minimal.yaml):
#   docker run --rm -p 8080:8080 -v "$PWD/my.yaml:/etc/sluice/sluice.yaml:ro" sluice:latest
FROM eclipse-temurin:17-jre

# A fixed, unprivileged uid (configs/kubernetes/deployment.yaml runs as it); no home, no shell.
RUN groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin sluice

COPY lb-core/target/sluice.jar /opt/sluice/sluice.jar
COPY configs/minimal.yaml /etc/sluice/sluice.yaml

USER 10001:10001
# 8080: the default config's listener. 9901: the admin endpoint (metrics, probes), which a config must bind
# on a non-loopback address, with admin.token_file, to be reachable from outside the container.
EXPOSE 8080 9901
# SIGTERM drains (runtime.drain_timeout) and exits 0: give `docker stop` a longer -t than the drain.
STOPSIGNAL SIGTERM
# Heap at 40% of the container's memory: Netty's direct memory (capped at the heap size) needs as much again.
# G1 named: with a limit of one CPU, JDK 17 would pick Serial GC, whose full collections stop every connection
# for as long as it takes to compact the whole old generation. Tier3DelayOn: no tier-2 (profile-less) compiles
# while C2 is busy at start-up (README "JVM flags"). Where the container has a
# memory limit, fix the heap and touch it at start for a flat resident size, as configs/kubernetes does:
#   docker run -m 1g -e JAVA_TOOL_OPTIONS="-XX:InitialRAMPercentage=40 -XX:+AlwaysPreTouch" ...
ENTRYPOINT ["java", "-XX:+UseG1GC", "-XX:MaxRAMPercentage=40", "-XX:Tier3DelayOn=100000", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/sluice/sluice.jar"]
CMD ["run", "/etc/sluice/sluice.yaml"]
