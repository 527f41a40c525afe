package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The deployment files under the repository root (tests run in lb-core), read as plain YAML trees. */
final class DeployFiles {
    static final Path ROOT = Path.of("..");

    private DeployFiles() {
    }

    static Path path(String relative) {
        Path p = ROOT.resolve(relative);
        assertThat(p).as(relative).exists();
        return p;
    }

    /** Every document of every YAML file under {@code dir}, in file order, each with the file it came from. */
    static List<Document> documents(String dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(path(dir))) {
            files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        List<Document> docs = new ArrayList<>();
        for (Path f : files) {
            try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                for (Object o : yaml().loadAll(r)) {
                    if (o != null) {
                        assertThat(o).as(f + ": a document must be a mapping").isInstanceOf(Map.class);
                        docs.add(new Document(ROOT.relativize(f).toString(), map(o)));
                    }
                }
            }
        }
        return docs;
    }

    static Map<String, Object> load(String relative) throws IOException {
        try (Reader r = Files.newBufferedReader(path(relative), StandardCharsets.UTF_8)) {
            return map(yaml().load(r));
        }
    }

    static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    /** One YAML document and the file it is in, for messages. */
    record Document(String file, Map<String, Object> tree) {
        Object at(String dottedPath) {
            Object node = tree;
            for (String key : dottedPath.split("\\.")) {
                if (!(node instanceof Map<?, ?> m)) {
                    return null;
                }
                node = m.get(key);
            }
            return node;
        }

        String kind() {
            return String.valueOf(tree.get("kind"));
        }

        String name() {
            return String.valueOf(at("metadata.name"));
        }

        @Override
        public String toString() {
            return file + " " + kind() + "/" + name();
        }
    }
}
