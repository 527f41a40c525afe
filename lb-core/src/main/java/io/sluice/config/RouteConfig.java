package io.sluice.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One routing rule of an HTTP listener. Every condition set in {@link Match} must hold; the first route of the
 * list that matches wins.
 *
 * @param prefixRewrite replaces the matched {@code path_prefix} when forwarding; null = path unchanged
 * @param maxBodySize   request body limit for this route; -1 = the listener's {@code http.max_body_size}
 */
public record RouteConfig(String name, Match match, String cluster, String prefixRewrite,
                          HeaderRules requestHeaders, HeaderRules responseHeaders, long maxBodySize) {

    /** Null fields are "any". {@code host} is lower case; a leading {@code *.} matches any subdomain. */
    public record Match(String host, String pathPrefix, String pathExact, Pattern pathRegex, String method,
                        HeaderMatch header) {
        public static final Match ANY = new Match(null, null, null, null, null, null);
    }

    /** Exactly one of {@code exact}, {@code regex}, or {@code present=true} is set. */
    public record HeaderMatch(String name, String exact, Pattern regex, boolean present) {
    }

    /** Header edits, applied in the order remove, set, add. */
    public record HeaderRules(List<Header> add, List<Header> set, List<String> remove) {
        public static final HeaderRules NONE = new HeaderRules(List.of(), List.of(), List.of());

        public HeaderRules {
            add = List.copyOf(add);
            set = List.copyOf(set);
            remove = List.copyOf(remove);
        }

        public boolean isEmpty() {
            return add.isEmpty() && set.isEmpty() && remove.isEmpty();
        }
    }

    public record Header(String name, String value) {
    }
}
