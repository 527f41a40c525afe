package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.ConfigFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile builds from what the repository has (no Docker daemon is needed to see that): its COPY
 * sources exist or are the shaded jar Maven writes, the build context keeps them, it runs as a user that is not
 * root, and its default config is valid and listens on the ports it exposes.
 */
class DockerfileTest {
    private static List<String[]> instructions;
    /** COPY source -> destination. */
    private static Map<String, String> copies;

    @BeforeAll
    static void parse() throws Exception {
        String text = Files.readString(DeployFiles.path("Dockerfile"), StandardCharsets.UTF_8);
        instructions = new ArrayList<>();
        for (String line : text.replaceAll("\\\\\\n", " ").split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                instructions.add(l.split("\\s+", 2));
            }
        }
        copies = new LinkedHashMap<>();
        for (String[] i : all("COPY")) {
            String[] args = i[1].split("\\s+");
            assertThat(args).as("COPY %s: one source, one destination, no --from", i[1]).hasSize(2);
            copies.put(args[0], args[1]);
        }
    }

    @Test
    void runsTemurin17JreAsAnUnprivilegedUser() {
        assertThat(one("FROM")).startsWith("eclipse-temurin:17").contains("jre");
        String user = one("USER").split(":")[0];
        assertThat(user).isNotIn("root", "0");
    }

    @Test
    void copySourcesExistAndTheContextKeepsThem() throws Exception {
        String shadedJar = shadedJar();
        List<String> ignore = Files.readAllLines(DeployFiles.path(".dockerignore")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        for (String source : copies.keySet()) {
            if (source.startsWith("lb-core/target/")) {
                assertThat(source).as("the jar `./mvnw package` builds").isEqualTo(shadedJar);
            } else {
                assertThat(DeployFiles.ROOT.resolve(source)).as(source).isRegularFile();
            }
            assertThat(excluded(ignore, source)).as(".dockerignore keeps " + source).isFalse();
        }
        String jar = copies.get(shadedJar);
        assertThat(array("ENTRYPOINT")).containsSubsequence("-jar", jar);
    }

    @Test
    void theDefaultConfigIsMinimalYamlAndListensOnTheExposedPorts() throws Exception {
        List<String> cmd = array("CMD");
        assertThat(cmd).hasSize(2).startsWith("run");
        assertThat(copies).containsEntry("configs/minimal.yaml", cmd.get(1));
        SluiceConfig config = new ConfigFile(DeployFiles.path("configs/minimal.yaml")).load().config();
        List<String> exposed = Arrays.asList(one("EXPOSE").split("\\s+"));
        for (ListenerConfig l : config.listeners()) {
            assertThat(l.bind().host()).as("reachable through a published port").isIn("0.0.0.0", "*", "[::]", "::");
            assertThat(exposed).contains(String.valueOf(l.bind().port()));
        }
        assertThat(exposed).contains(String.valueOf(config.admin().bind().port()));
    }

    private static String shadedJar() throws Exception {
        String pom = Files.readString(DeployFiles.path("lb-core/pom.xml"), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>").matcher(pom);
        assertThat(m.find()).as("the shade plugin's outputFile").isTrue();
        return "lb-core/target/" + m.group(1);
    }

    /** Docker's rule: the last pattern that matches decides, {@code !} re-includes. */
    private static boolean excluded(List<String> patterns, String path) {
        boolean excluded = false;
        for (String p : patterns) {
            boolean negate = p.startsWith("!");
            String glob = negate ? p.substring(1) : p;
            if (glob.equals("*") || FileSystems.getDefault().getPathMatcher("glob:" + glob).matches(Path.of(path))) {
                excluded = !negate;
            }
        }
        return excluded;
    }

    private static List<String[]> all(String instruction) {
        return instructions.stream().filter(i -> i[0].equalsIgnoreCase(instruction)).toList();
    }

    private static String one(String instruction) {
        List<String[]> found = all(instruction);
        assertThat(found).as(instruction).hasSize(1);
        return found.get(0)[1];
    }

    /** An exec-form instruction's arguments (a JSON array, which YAML reads). */
    private static List<String> array(String instruction) {
        return DeployFiles.list(DeployFiles.yaml().load(one(instruction))).stream().map(String::valueOf).toList();
    }
}
