package io.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML mapping being read into a record. Every typed getter records a {@link ConfigError} with the path and
 * the YAML mark instead of throwing, and returns the default, so one pass finds every error in a file.
 * Unknown and duplicate keys are reported when the node is opened.
 */
final class ConfigNode {
    private final ConfigErrors errors;
    private final String path;
    private final Node node;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    ConfigNode(ConfigErrors errors, String path, Node node, Collection<String> allowedKeys) {
        this.errors = errors;
        this.path = path;
        this.node = node;
        if (!(node instanceof MappingNode mapping)) {
            errors.add(path, node, "expected a mapping (key: value), got " + describe(node));
            return;
        }
        for (NodeTuple t : mapping.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode keyNode)) {
                errors.add(path, t.getKeyNode(), "keys must be plain names");
                continue;
            }
            String key = keyNode.getValue();
            if (!allowedKeys.contains(key)) {
                errors.add(join(key), keyNode, "unknown key" + DidYouMean.hint(key, allowedKeys)
                        + " (allowed: " + String.join(", ", allowedKeys) + ")");
                continue;
            }
            if (entries.putIfAbsent(key, t) != null) {
                errors.add(join(key), keyNode, "duplicate key");
            }
        }
    }

    String path() {
        return path;
    }

    ConfigErrors errorsSink() {
        return errors;
    }

    Node node() {
        return node;
    }

    boolean has(String key) {
        Node v = value(key);
        return v != null;
    }

    String join(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The value node, or null when the key is absent or explicitly null. */
    Node value(String key) {
        NodeTuple t = entries.get(key);
        if (t == null) {
            return null;
        }
        Node v = t.getValueNode();
        if (v instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
            return null;
        }
        return v;
    }

    Node valueOrSelf(String key) {
        Node v = value(key);
        return v != null ? v : node;
    }

    void error(String key, String message) {
        errors.add(join(key), valueOrSelf(key), message);
    }

    String string(String key, String dflt) {
        Node v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof ScalarNode s)) {
            errors.add(join(key), v, "expected a string, got " + describe(v));
            return dflt;
        }
        return s.getValue();
    }

    String requiredString(String key) {
        String s = string(key, null);
        if (s == null && !has(key)) {
            errors.add(join(key), node, "required");
        } else if (s != null && s.isBlank()) {
            errors.add(join(key), value(key), "must not be empty");
            return null;
        }
        return s;
    }

    int integer(String key, int dflt, int min, int max) {
        String s = string(key, null);
        if (s == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(s.trim().replace("_", ""));
            if (n < min || n > max) {
                error(key, "must be between " + min + " and " + max + ", got " + n);
                return dflt;
            }
            return n;
        } catch (NumberFormatException e) {
            error(key, "expected a whole number, got \"" + s + "\"");
            return dflt;
        }
    }

    boolean bool(String key, boolean dflt) {
        String s = string(key, null);
        if (s == null) {
            return dflt;
        }
        // Only true/false: YAML 1.1's yes/no/on/off surprise people (the "Norway problem").
        if (s.equals("true")) {
            return true;
        }
        if (s.equals("false")) {
            return false;
        }
        error(key, "expected true or false, got \"" + s + "\"");
        return dflt;
    }

    Duration duration(String key, Duration dflt, Duration min) {
        String s = string(key, null);
        if (s == null) {
            return dflt;
        }
        Duration d = Values.parseDuration(s);
        if (d == null) {
            error(key, "expected a duration such as 500ms, 2s, 1m or 1h, got \"" + s + "\"");
            return dflt;
        }
        if (d.compareTo(min) < 0) {
            error(key, "must be at least " + Values.format(min) + ", got " + s);
            return dflt;
        }
        return d;
    }

    HostPort hostPort(String key, HostPort dflt, boolean required, boolean allowPortZero) {
        String s = required ? requiredString(key) : string(key, null);
        if (s == null) {
            return dflt;
        }
        HostPort hp = HostPort.parse(s);
        if (hp == null) {
            error(key, "expected host:port (port 1-65535, IPv6 as [addr]:port), got \"" + s + "\"");
            return dflt;
        }
        if (hp.port() == 0 && !allowPortZero) {
            error(key, "expected host:port with a port between 1 and 65535, got \"" + s + "\"");
            return dflt;
        }
        return hp;
    }

    <E extends Enum<E>> E choice(String key, E dflt, Class<E> type) {
        String s = string(key, null);
        if (s == null) {
            return dflt;
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            String name = e.name().toLowerCase(java.util.Locale.ROOT);
            names.add(name);
            if (name.equals(s)) {
                return e;
            }
        }
        error(key, "expected one of " + String.join(", ", names) + ", got \"" + s + "\"" + DidYouMean.hint(s, names));
        return dflt;
    }

    /** A nested mapping, or null when absent. */
    ConfigNode map(String key, Collection<String> allowedKeys) {
        Node v = value(key);
        return v == null ? null : new ConfigNode(errors, join(key), v, allowedKeys);
    }

    /** The items of a sequence, or an empty list when absent or malformed (after recording the error). */
    List<Node> list(String key) {
        Node v = value(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof SequenceNode seq)) {
            errors.add(join(key), v, "expected a list, got " + describe(v));
            return List.of();
        }
        return seq.getValue();
    }

    List<String> stringList(String key) {
        List<String> out = new ArrayList<>();
        List<Node> items = list(key);
        for (int i = 0; i < items.size(); i++) {
            Node n = items.get(i);
            if (n instanceof ScalarNode s) {
                out.add(s.getValue());
            } else {
                errors.add(join(key) + "[" + i + "]", n, "expected a string, got " + describe(n));
            }
        }
        return out;
    }

    static String describe(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof SequenceNode) {
            return "a list";
        }
        if (n instanceof ScalarNode s) {
            return s.getTag().equals(Tag.NULL) ? "nothing" : "\"" + s.getValue() + "\"";
        }
        return "something else";
    }

    /** Collects errors in file order. */
    static final class ConfigErrors {
        private final List<ConfigError> list = new ArrayList<>();

        void add(String path, Node node, String message) {
            Mark m = node == null ? null : node.getStartMark();
            list.add(m == null ? new ConfigError(path, 0, 0, message)
                    : new ConfigError(path, m.getLine() + 1, m.getColumn() + 1, message));
        }

        void add(String path, String message) {
            list.add(new ConfigError(path, 0, 0, message));
        }

        List<ConfigError> sorted() {
            List<ConfigError> out = new ArrayList<>(list);
            out.sort((a, b) -> a.line() != b.line() ? Integer.compare(a.line(), b.line())
                    : Integer.compare(a.column(), b.column()));
            return out;
        }

        boolean isEmpty() {
            return list.isEmpty();
        }
    }

    /** Keys in declaration order, for allowed-key sets that print nicely. */
    static Set<String> keys(String... keys) {
        return new java.util.LinkedHashSet<>(List.of(keys));
    }
}
