package io.sluice.deploy;

import static io.sluice.deploy.DeployFiles.list;
import static io.sluice.deploy.DeployFiles.map;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.deploy.DeployFiles.Document;
import io.sluice.runtime.ConfigFile;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * configs/kubernetes/ holds together: every document is a well-formed object of its kind (no kubeconform
 * offline, so the fields a kind cannot do without are checked here), the Deployment's ports, probes and grace
 * period agree with the Sluice config in the ConfigMap, and that config is valid and answers the probes when
 * started.
 */
class KubernetesManifestsTest {
    /** Per kind: the apiVersion it must have and the fields it cannot do without. */
    private static final Map<String, Kind> KINDS = Map.of(
            "Deployment", new Kind("apps/v1", "spec.selector.matchLabels", "spec.template.metadata.labels",
                    "spec.template.spec.containers"),
            "ConfigMap", new Kind("v1", "data"),
            "Service", new Kind("v1", "spec.selector", "spec.ports"),
            "ServiceMonitor", new Kind("monitoring.coreos.com/v1", "spec.selector.matchLabels", "spec.endpoints"));

    private record Kind(String apiVersion, String... required) {
    }

    private static List<Document> docs;
    private static Document deployment;
    private static Map<String, Object> container;
    private static String sluiceYaml;
    private static SluiceConfig config;

    @BeforeAll
    static void load(@TempDir Path dir) throws Exception {
        docs = DeployFiles.documents("configs/kubernetes");
        deployment = only("Deployment");
        container = map(list(deployment.at("spec.template.spec.containers")).get(0));
        Document configMap = only("ConfigMap");
        sluiceYaml = (String) map(configMap.at("data")).get("sluice.yaml");
        assertThat(sluiceYaml).as("the ConfigMap's sluice.yaml").isNotNull();
        // The same check `sluice check` runs, certificate files included (the config names none).
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, sluiceYaml, StandardCharsets.UTF_8);
        config = new ConfigFile(file).load().config();
    }

    @Test
    void everyDocumentIsAKnownKindWithItsRequiredFields() {
        assertThat(docs).extracting(Document::kind)
                .contains("Deployment", "ConfigMap", "Service", "ServiceMonitor");
        for (Document d : docs) {
            assertThat(d.at("apiVersion")).as(d.file() + " apiVersion").isNotNull();
            assertThat(KINDS).as(d + ": unexpected kind").containsKey(d.kind());
            Kind kind = KINDS.get(d.kind());
            assertThat(d.at("apiVersion")).as(d + " apiVersion").isEqualTo(kind.apiVersion());
            assertThat(d.at("metadata.name")).as(d + " metadata.name").isInstanceOf(String.class);
            assertThat((String) d.at("metadata.name")).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
            for (String field : kind.required()) {
                assertThat(d.at(field)).as(d + " " + field).isNotNull();
            }
        }
        assertThat(deployment.at("spec.template.metadata.labels")).as("the template carries the selector's labels")
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsAllEntriesOf(map(deployment.at("spec.selector.matchLabels")));
        assertThat(container).containsKeys("name", "image", "ports", "resources", "securityContext");
    }

    @Test
    void containerPortsAreTheConfigsListenersAndAdmin() {
        Set<Integer> expected = new TreeSet<>();
        for (ListenerConfig l : config.listeners()) {
            expected.add(l.bind().port());
        }
        expected.add(config.admin().bind().port());
        assertThat(containerPorts().values()).containsExactlyInAnyOrderElementsOf(expected);
        // Reachable from the kubelet and Prometheus: not loopback.
        assertThat(config.admin().loopback()).isFalse();
        assertThat(config.listeners()).extracting(l -> l.bind().host()).containsOnly("0.0.0.0");
        assertThat(config.listeners()).as("no TLS in the example: no certificate files to mount")
                .allSatisfy(l -> assertThat(l.tls()).isNull());
    }

    @Test
    void probesHitTheAdminEndpoint() {
        int admin = config.admin().bind().port();
        assertThat(probe("readinessProbe")).isEqualTo(Map.entry("/ready", admin));
        assertThat(probe("livenessProbe")).isEqualTo(Map.entry("/healthz", admin));
        assertThat(probe("startupProbe")).isEqualTo(Map.entry("/healthz", admin));
        Map<String, Object> annotations = map(deployment.at("spec.template.metadata.annotations"));
        assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", String.valueOf(admin))
                .containsEntry("prometheus.io/path", "/metrics");
    }

    @Test
    void theDrainFinishesBeforeTheKill() {
        List<Object> preStop = list(map(map(map(container.get("lifecycle")).get("preStop")).get("exec")).get("command"));
        assertThat(preStop).hasSize(2).startsWith("sleep");
        Duration sleep = Duration.ofSeconds(Long.parseLong((String) preStop.get(1)));
        Duration grace = Duration.ofSeconds(((Number) deployment.at(
                "spec.template.spec.terminationGracePeriodSeconds")).longValue());
        Duration drain = config.runtime().drainTimeout();
        assertThat(sleep.plus(drain).plusSeconds(5)).as("preStop sleep + drain_timeout + 5 s margin")
                .isLessThanOrEqualTo(grace);
    }

    @Test
    void runsUnprivilegedOnAReadOnlyRoot() {
        Map<String, Object> pod = map(deployment.at("spec.template.spec.securityContext"));
        assertThat(pod).containsEntry("runAsNonRoot", true);
        assertThat(((Number) pod.get("runAsUser")).intValue()).isPositive();
        Map<String, Object> c = map(container.get("securityContext"));
        assertThat(c).containsEntry("allowPrivilegeEscalation", false).containsEntry("readOnlyRootFilesystem", true);
        assertThat(list(map(c.get("capabilities")).get("drop"))).containsExactly("ALL");
        Map<String, Object> resources = map(container.get("resources"));
        assertThat(map(resources.get("requests"))).containsKeys("cpu", "memory");
        assertThat(map(resources.get("limits"))).containsKey("memory");
        assertThat(mounts()).as("a writable /tmp for the JVM and Netty's native libraries").containsKey("/tmp");
    }

    @Test
    void theConfigIsTheConfigMapMountedAsADirectorySoReloadsSeeItsSwaps() {
        Map<String, Object> volume = list(deployment.at("spec.template.spec.volumes")).stream().map(DeployFiles::map)
                .filter(v -> v.containsKey("configMap")).findFirst().orElseThrow();
        assertThat(map(volume.get("configMap"))).containsEntry("name", only("ConfigMap").name());
        Map<String, Object> mount = mounts().values().stream().filter(m -> m.get("name").equals(volume.get("name")))
                .findFirst().orElseThrow();
        assertThat(mount).as("a subPath mount never sees ConfigMap updates").doesNotContainKey("subPath");
        assertThat(list(container.get("args"))).containsExactly("run", mount.get("mountPath") + "/sluice.yaml");
        assertThat(config.runtime().watchConfig()).isTrue();
        assertThat(config.admin().tokenFile()).as("the token comes from a mounted Secret").satisfies(token ->
                assertThat(mounts()).containsKey(token.getParent().toString()));
    }

    @Test
    void servicesAndTheServiceMonitorReachNamedContainerPorts() {
        Map<String, Object> podLabels = map(deployment.at("spec.template.metadata.labels"));
        Set<String> portNames = containerPorts().keySet();
        List<Document> services = docs.stream().filter(d -> d.kind().equals("Service")).toList();
        for (Document s : services.stream().filter(s -> !"None".equals(s.at("spec.clusterIP"))).toList()) {
            assertThat(podLabels).as(s + " selects Sluice's pods").containsAllEntriesOf(map(s.at("spec.selector")));
            for (Object p : list(s.at("spec.ports"))) {
                assertThat(map(p).get("targetPort")).as(s + " targetPort").isIn(portNames.toArray());
            }
        }
        Document monitor = only("ServiceMonitor");
        Map<String, Object> wanted = map(monitor.at("spec.selector.matchLabels"));
        List<Document> scraped = services.stream()
                .filter(s -> map(s.at("metadata.labels")).entrySet().containsAll(wanted.entrySet())).toList();
        assertThat(scraped).as("the ServiceMonitor selects one Service").hasSize(1);
        Set<Object> servicePorts = list(scraped.get(0).at("spec.ports")).stream().map(p -> map(p).get("name"))
                .collect(Collectors.toSet());
        for (Object e : list(monitor.at("spec.endpoints"))) {
            assertThat(map(e).get("port")).isIn(servicePorts.toArray());
            assertThat(map(e).get("path")).isEqualTo("/metrics");
        }
    }

    @Test
    void theSrvExampleIsHeadlessWithNamedPorts() {
        Document headless = docs.stream().filter(d -> "None".equals(d.at("spec.clusterIP"))).findFirst().orElseThrow();
        // SRV records are _<port name>._<protocol>.<service>.<namespace>.svc...: every port needs a name.
        for (Object p : list(headless.at("spec.ports"))) {
            assertThat(map(p)).containsKeys("name", "port").containsEntry("protocol", "TCP");
        }
        // The cluster follows the SRV records of the Service's first port.
        String port = String.valueOf(map(list(headless.at("spec.ports")).get(0)).get("name"));
        assertThat(config.clusters().get(0).srvNames())
                .containsExactly("_" + port + "._tcp." + headless.name() + ".default.svc.cluster.local");
    }

    @Test
    void theEmbeddedConfigStartsAndAnswersTheProbes() throws Exception {
        // The same file on loopback with free ports, and without the token the test does not have.
        Map<String, Object> tree = map(DeployFiles.yaml().load(sluiceYaml));
        map(tree.get("admin")).put("bind", "127.0.0.1:0");
        map(tree.get("admin")).remove("token_file");
        map(tree.get("runtime")).put("watch_config", false);
        for (Object l : list(tree.get("listeners"))) {
            map(l).put("bind", "127.0.0.1:0");
        }
        try (Sluice s = Proxies.start(DeployFiles.yaml().dump(tree))) {
            for (String path : List.of(probe("readinessProbe").getKey(), probe("livenessProbe").getKey(), "/metrics")) {
                assertThat(Proxies.admin(s, path).statusCode()).as(path).isEqualTo(200);
            }
        }
    }

    private static Document only(String kind) {
        List<Document> found = docs.stream().filter(d -> d.kind().equals(kind)).toList();
        assertThat(found).as(kind).hasSize(1);
        return found.get(0);
    }

    private static Map<String, Integer> containerPorts() {
        return list(container.get("ports")).stream().map(DeployFiles::map)
                .collect(Collectors.toMap(p -> (String) p.get("name"), p -> ((Number) p.get("containerPort")).intValue()));
    }

    private static Map<String, Map<String, Object>> mounts() {
        return list(container.get("volumeMounts")).stream().map(DeployFiles::map)
                .collect(Collectors.toMap(m -> (String) m.get("mountPath"), m -> m));
    }

    /** A probe's path and its port, a named container port resolved to its number. */
    private static Map.Entry<String, Integer> probe(String which) {
        Map<String, Object> get = map(map(container.get(which)).get("httpGet"));
        Object port = get.get("port");
        int number = port instanceof Number n ? n.intValue() : containerPorts().get((String) port);
        return Map.entry((String) get.get("path"), number);
    }

}
