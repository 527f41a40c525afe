package io.sluice.config;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reads the {@code query}, {@code query_type} and {@code expect_rcode} keys of a {@code type: dns} health check. */
final class DnsCheckReader {
    /** The query types a check may ask for, by name (RFC 1035, 3596, 2782). */
    static final Map<String, Integer> QUERY_TYPES = Map.of("A", 1, "NS", 2, "CNAME", 5, "SOA", 6, "PTR", 12,
            "MX", 15, "TXT", 16, "AAAA", 28, "SRV", 33, "ANY", 255);
    /** Response codes by name (RFC 1035 4.1.1). */
    static final Map<String, Integer> RCODES = Map.of("NOERROR", 0, "FORMERR", 1, "SERVFAIL", 2, "NXDOMAIN", 3,
            "NOTIMP", 4, "REFUSED", 5);
    private static final List<String> DNS_ONLY = List.of("query", "query_type", "expect_rcode");
    private static final List<String> NOT_DNS = List.of("method", "path", "host", "expect_status", "expect_body",
            "service");

    private DnsCheckReader() {
    }

    /** The check's query for type dns (an error when {@code query} is missing), else null. */
    static HealthCheckConfig.DnsCheck read(ConfigNode n, HealthCheckConfig.Type type) {
        if (type != HealthCheckConfig.Type.DNS) {
            for (String key : DNS_ONLY) {
                if (n.has(key)) {
                    n.error(key, "only for type: dns");
                }
            }
            return null;
        }
        for (String key : NOT_DNS) {
            if (n.has(key)) {
                n.error(key, "not for type: dns");
            }
        }
        String name = n.requiredString("query");
        if (name != null && !validName(name)) {
            n.error("query", "expected a domain name such as \"example.com\" (labels of 1-63 letters, digits, - or _), "
                    + "got \"" + name + "\"");
        }
        String typeName = n.string("query_type", HealthCheckConfig.DnsCheck.DEFAULT_QUERY_TYPE);
        Integer queryType = QUERY_TYPES.get(typeName.toUpperCase(Locale.ROOT));
        if (queryType == null) {
            n.error("query_type", "expected one of " + String.join(", ", QUERY_TYPES.keySet().stream().sorted().toList())
                    + ", got \"" + typeName + "\"");
            queryType = 1;
        }
        Set<Integer> rcodes = HealthCheckConfig.DnsCheck.DEFAULT_RCODES;
        if (n.has("expect_rcode")) {
            rcodes = new HashSet<>();
            for (String r : n.stringList("expect_rcode")) {
                Integer code = RCODES.get(r.toUpperCase(Locale.ROOT));
                if (code == null) {
                    n.error("expect_rcode", "expected response codes such as NOERROR or NXDOMAIN (one of "
                            + String.join(", ", RCODES.keySet().stream().sorted().toList()) + "), got \"" + r + "\"");
                } else {
                    rcodes.add(code);
                }
            }
        }
        return new HealthCheckConfig.DnsCheck(name == null ? "" : name, queryType, rcodes);
    }

    private static boolean validName(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty() || n.length() > 253) {
            return false;
        }
        for (String label : n.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || !label.matches("[A-Za-z0-9_-]+")) {
                return false;
            }
        }
        return true;
    }
}
