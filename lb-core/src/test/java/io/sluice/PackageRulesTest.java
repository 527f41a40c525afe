package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering of lb-core, checked on its sources: {@code config} is the bottom (it describes, it does not
 * run), {@code balance} works on endpoints it knows only through its own interface, and {@code cluster} owns
 * servers without knowing which protocol forwards to them. Fully qualified names in code count as much as
 * imports, so neither spelling can slip a cycle back in.
 */
class PackageRulesTest {
    private static final Path SOURCES = Path.of("src/main/java/io/sluice");

    /**
     * The layers, lowest first: a package may use the ones before it, never one after it (docs/architecture.md
     * draws the same picture). lb-health sits below all of them.
     */
    static final List<String> LAYERS = List.of("config", "balance", "cluster", "net", "tls", "l4", "udp", "http", "metrics",
            "runtime", "admin", "cli");

    /** Package to the io.sluice packages it must not use. */
    private static final Map<String, Set<String>> FORBIDDEN = forbidden();

    private static Map<String, Set<String>> forbidden() {
        Map<String, Set<String>> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < LAYERS.size(); i++) {
            m.put(LAYERS.get(i), Set.copyOf(LAYERS.subList(i + 1, LAYERS.size())));
        }
        return m;
    }

    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.sluice\\.([a-z][a-z0-9_]*)\\.[A-Za-z]");

    @Test
    void packagesUseOnlyTheLayersBelowThem() throws IOException {
        List<String> violations = new ArrayList<>();
        for (Map.Entry<String, Set<String>> rule : FORBIDDEN.entrySet()) {
            Path dir = SOURCES.resolve(rule.getKey());
            // A moved source tree would otherwise make this test pass by checking nothing.
            assertThat(dir).as("sources of io.sluice." + rule.getKey()).isDirectory();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    violations.addAll(violations(file, rule.getKey(), rule.getValue()));
                }
            }
        }
        assertThat(violations).as("forbidden package references").isEmpty();
    }

    @Test
    void theCheckSeesImportsAndQualifiedNames() {
        String source = "package io.sluice.config;\nimport io.sluice.balance.LoadBalancers;\n"
                + "class X { Object o = io.sluice.http.Route.class; Object h = io.sluice.health.ProbeSpec.class; }\n";
        assertThat(violations(Path.of("X.java"), source, "config", FORBIDDEN.get("config"))).containsExactly(
                "io.sluice.config X.java:2 uses io.sluice.balance.LoadBalancers",
                "io.sluice.config X.java:3 uses io.sluice.http.Route");
    }

    private static List<String> violations(Path file, String pkg, Set<String> forbidden) throws IOException {
        return violations(SOURCES.relativize(file), Files.readString(file, StandardCharsets.UTF_8), pkg, forbidden);
    }

    private static List<String> violations(Path name, String source, String pkg, Set<String> forbidden) {
        List<String> out = new ArrayList<>();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("package ")) {
                continue;
            }
            Matcher m = REFERENCE.matcher(lines[i]);
            while (m.find()) {
                if (forbidden.contains(m.group(1))) {
                    int end = m.end();
                    while (end < lines[i].length() && Character.isJavaIdentifierPart(lines[i].charAt(end))) {
                        end++;
                    }
                    out.add("io.sluice." + pkg + " " + name + ":" + (i + 1) + " uses "
                            + lines[i].substring(m.start(), end));
                }
            }
        }
        return out;
    }
}
