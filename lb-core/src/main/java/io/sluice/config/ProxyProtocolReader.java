package io.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/** Reads {@code listeners[].proxy_protocol}. */
final class ProxyProtocolReader {
    static final Set<String> PROXY_PROTOCOL = ConfigNode.keys("accept", "trusted", "timeout");

    private ProxyProtocolReader() {
    }

    /** The setting, or null when the listener has none or it is {@code accept: false}. */
    static ProxyProtocolConfig read(ConfigNode listener) {
        ConfigNode n = listener.map("proxy_protocol", PROXY_PROTOCOL);
        if (n == null) {
            return null;
        }
        String acceptText = n.string("accept", "false");
        ProxyProtocolConfig.Accept accept = switch (acceptText) {
            case "true" -> ProxyProtocolConfig.Accept.TRUE;
            case "optional" -> ProxyProtocolConfig.Accept.OPTIONAL;
            case "false" -> ProxyProtocolConfig.Accept.FALSE;
            default -> {
                n.error("accept", "expected true, optional or false, got \"" + acceptText + "\"");
                yield ProxyProtocolConfig.Accept.FALSE;
            }
        };
        List<Cidr> trusted = cidrs(n, "trusted");
        Duration timeout = n.duration("timeout", ProxyProtocolConfig.DEFAULT_TIMEOUT, Duration.ofMillis(1));
        if (accept == ProxyProtocolConfig.Accept.FALSE) {
            return null;
        }
        if (!(n.value("trusted") instanceof SequenceNode items) || items.getValue().isEmpty()) {
            // Headers from nobody would be believed: a setting that only closes connections.
            n.error("trusted", "required with accept: " + acceptText + ": the addresses of the balancers in front "
                    + "(e.g. [\"10.0.0.0/8\"])");
        }
        return new ProxyProtocolConfig(accept, trusted, timeout);
    }

    /** A list of address blocks under {@code key} (absent: empty), each mistake reported at its item. */
    static List<Cidr> cidrs(ConfigNode n, String key) {
        List<Cidr> out = new ArrayList<>();
        List<Node> items = n.list(key);
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String path = n.join(key) + "[" + i + "]";
            Cidr c = item instanceof ScalarNode s ? Cidr.parse(s.getValue()) : null;
            if (c == null) {
                n.errorsSink().add(path, item, "expected an address or block such as 10.0.0.0/8 or ::1/128, got "
                        + (item instanceof ScalarNode s ? "\"" + s.getValue() + "\"" : ConfigNode.describe(item)));
            } else {
                out.add(c);
            }
        }
        return out;
    }
}
