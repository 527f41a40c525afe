package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * configs/reference.yaml claims to show every key the loader accepts, at its default. Both halves are checked
 * against the loader itself, so neither a new key nor a changed default can leave the file behind.
 *
 * <p>The file's convention (see its head): a key whose value is not what leaving it out gives (required keys,
 * blocks absent by default, keys unset by default) says so with a comment starting {@code # required} or
 * {@code # default:}. So removing every key without such a comment must load to the same config, and removing
 * any one key with such a comment must change the config or make it invalid: the comments cannot lie either way.
 */
class ReferenceConfigTest {
    private static final Path FILE = Path.of("..", "configs", "reference.yaml");
    private static final Pattern MARKED = Pattern.compile("#\\s*(required|default:)");

    private static List<String> lines;
    private static Node root;

    @BeforeAll
    static void read() throws Exception {
        String text = Files.readString(FILE, StandardCharsets.UTF_8);
        lines = text.lines().toList();
        root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new java.io.StringReader(text));
    }

    @Test
    void everyAcceptedKeyAppears() {
        Map<String, Set<String>> accepted = ConfigLoader.acceptedKeys();
        Map<String, Set<String>> seen = new LinkedHashMap<>();
        collectKeys(root, "", accepted.keySet(), seen);
        for (Map.Entry<String, Set<String>> section : accepted.entrySet()) {
            String where = section.getKey().isEmpty() ? "the top level" : section.getKey();
            assertThat(seen.getOrDefault(section.getKey(), Set.of())).as("keys of " + where)
                    .containsExactlyInAnyOrderElementsOf(section.getValue());
        }
    }

    @Test
    void everyUnmarkedKeyHoldsItsDefault() throws Exception {
        SluiceConfig reference = ConfigLoader.load(FILE);
        SluiceConfig defaults = ConfigLoader.parse(yaml(strip(root, t -> false)));
        assertThat(reference.runtime()).isEqualTo(RuntimeConfig.DEFAULT);
        assertThat(reference.admin()).isEqualTo(defaults.admin()); // token_file is marked: it has no default
        // Section by section, so that a failure names the one that differs.
        assertThat(reference.listeners()).hasSameSizeAs(defaults.listeners());
        for (int i = 0; i < reference.listeners().size(); i++) {
            assertSame("listeners[" + i + "]", reference.listeners().get(i), defaults.listeners().get(i));
        }
        assertThat(reference.clusters()).hasSameSizeAs(defaults.clusters());
        for (int i = 0; i < reference.clusters().size(); i++) {
            assertSame("clusters[" + i + "]", reference.clusters().get(i), defaults.clusters().get(i));
        }
        assertSame("the whole file", reference, defaults);
    }

    @Test
    void everyMarkedKeyIsNotItsDefault() throws Exception {
        SluiceConfig reference = ConfigLoader.load(FILE);
        List<NodeTuple> marked = new ArrayList<>();
        collectMarked(root, marked);
        assertThat(marked).isNotEmpty();
        for (NodeTuple t : marked) {
            String key = ((ScalarNode) t.getKeyNode()).getValue();
            int line = t.getKeyNode().getStartMark().getLine();
            String what = "\"" + key + "\" on line " + (line + 1) + " (marked as not holding its default)";
            SluiceConfig without;
            try {
                without = ConfigLoader.parse(yaml(strip(root, other -> other == t)));
            } catch (ConfigException e) {
                continue; // required, or needed by another key: no default to hold
            }
            assertThat(differs(reference, without)).as(what + ": leaving it out changes nothing").isTrue();
        }
    }

    /** The keys seen under each section path, descending only into sections the loader knows. */
    private static void collectKeys(Node node, String path, Set<String> sections, Map<String, Set<String>> seen) {
        if (node instanceof SequenceNode seq) {
            for (Node item : seq.getValue()) {
                collectKeys(item, path + "[]", sections, seen);
            }
            return;
        }
        if (!(node instanceof MappingNode map) || !sections.contains(path)) {
            return;
        }
        for (NodeTuple t : map.getValue()) {
            String key = ((ScalarNode) t.getKeyNode()).getValue();
            seen.computeIfAbsent(path, p -> new LinkedHashSet<>()).add(key);
            String child = path.isEmpty() ? key : path + "." + key;
            Node value = t.getValueNode();
            if (value instanceof SequenceNode) {
                collectKeys(value, child, sections, seen);
            } else if (sections.contains(child)) {
                collectKeys(value, child, sections, seen);
            }
        }
    }

    private static void collectMarked(Node node, List<NodeTuple> out) {
        if (node instanceof SequenceNode seq) {
            seq.getValue().forEach(item -> collectMarked(item, out));
        } else if (node instanceof MappingNode map) {
            for (NodeTuple t : map.getValue()) {
                if (marked(t)) {
                    out.add(t);
                }
                collectMarked(t.getValueNode(), out);
            }
        }
    }

    /**
     * A copy without the keys that claim to hold their default (and without {@code drop}), keeping a block
     * whose children still say something. Leaving out a key and writing its default must read the same.
     */
    private static Node strip(Node node, Predicate<NodeTuple> drop) {
        if (node instanceof SequenceNode seq) {
            List<Node> items = new ArrayList<>();
            seq.getValue().forEach(item -> items.add(strip(item, drop)));
            return new SequenceNode(seq.getTag(), items, seq.getFlowStyle());
        }
        if (node instanceof MappingNode map) {
            List<NodeTuple> kept = new ArrayList<>();
            for (NodeTuple t : map.getValue()) {
                if (drop.test(t)) {
                    continue;
                }
                Node value = strip(t.getValueNode(), drop);
                if (marked(t) || saysSomething(value)) {
                    kept.add(new NodeTuple(t.getKeyNode(), value));
                }
            }
            return new MappingNode(map.getTag(), kept, map.getFlowStyle());
        }
        return node;
    }

    private static boolean saysSomething(Node stripped) {
        if (stripped instanceof MappingNode m) {
            return !m.getValue().isEmpty();
        }
        if (stripped instanceof SequenceNode s) {
            return s.getValue().stream().anyMatch(ReferenceConfigTest::saysSomething);
        }
        return false;
    }

    /** Whether the comment on the key's line starts with one of the markers. */
    private static boolean marked(NodeTuple t) {
        String comment = comment(lines.get(t.getKeyNode().getStartMark().getLine()));
        return comment != null && MARKED.matcher(comment).lookingAt();
    }

    /** The comment of a line: from a # outside quotes that starts the line or follows a space. */
    static String comment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(i);
            }
        }
        return null;
    }

    private static String yaml(Node node) {
        StringWriter out = new StringWriter();
        new Yaml().serialize(node, out);
        return out.toString();
    }

    /**
     * Records hold Patterns (compared by identity) and int arrays: compare those by what they mean. Places in
     * the file (kept for errors found when certificate files are read) move when keys are left out: not compared.
     */
    private static void assertSame(String what, Object actual, Object expected) {
        assertThat(actual).as(what).usingRecursiveComparison()
                .ignoringFieldsOfTypes(io.sluice.config.TlsConfig.Located.class)
                .ignoringFieldsMatchingRegexes(".*certificates\\.(line|column)")
                .withEqualsForType((a, b) -> a == null || b == null ? a == b
                        : a.pattern().equals(b.pattern()) && a.flags() == b.flags(), Pattern.class)
                .isEqualTo(expected);
    }

    private static boolean differs(Object a, Object b) {
        try {
            assertSame("", a, b);
            return false;
        } catch (AssertionError e) {
            return true;
        }
    }
}
