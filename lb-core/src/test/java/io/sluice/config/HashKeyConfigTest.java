package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The one grammar of hash_key, shared by the loader's validation and the runtime. */
class HashKeyConfigTest {

    @Test
    void parsesEveryKind() {
        assertThat(HashKeyConfig.parse("source_ip")).isSameAs(HashKeyConfig.SOURCE_IP);
        assertThat(HashKeyConfig.parse("path")).isSameAs(HashKeyConfig.PATH);
        assertThat(HashKeyConfig.parse("sni")).isSameAs(HashKeyConfig.SNI);
        assertThat(HashKeyConfig.parse("header:X-User"))
                .isEqualTo(new HashKeyConfig(HashKeyConfig.Kind.HEADER, "x-user"));
        assertThat(HashKeyConfig.parse("cookie:SID")).isEqualTo(new HashKeyConfig(HashKeyConfig.Kind.COOKIE, "SID"));
        assertThat(HashKeyConfig.parse("query:id")).isEqualTo(new HashKeyConfig(HashKeyConfig.Kind.QUERY, "id"));
    }

    @Test
    void printsAsTheConfigSpellsIt() {
        for (String key : List.of("source_ip", "sni", "path", "header:x-user", "cookie:sid", "query:id")) {
            assertThat(HashKeyConfig.parse(key)).hasToString(key);
        }
    }

    @Test
    void refusesAnythingElseWithTheLoadersMessage() {
        for (String bad : List.of("", "header:", "header:a b", "cookie", "query:a=b", "body:x", ":x", "Source_IP",
                "header:x\r\n")) {
            assertThatThrownBy(() -> HashKeyConfig.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expected source_ip, sni, path, header:NAME, cookie:NAME or query:NAME, got \"" + bad
                            + "\"");
        }
    }

    @Test
    void namesAreRfc9110Tokens() {
        assertThat(Values.isToken("X-Request-Id")).isTrue();
        assertThat(Values.isToken("!#$%&'*+-.^_`|~09azAZ")).isTrue();
        for (String bad : List.of("", "a b", "a:b", "a/b", "é", "a\n")) {
            assertThat(Values.isToken(bad)).as(bad).isFalse();
        }
        assertThat(Values.isToken(null)).isFalse();
    }
}
