package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link HeadFields} finds names by their {@link HeadWords#id} and keeps a set of the ids present: it must answer
 * every lookup, count and removal as Netty's own header table does, whatever the spelling of a name (any case,
 * names with and without an id, names that share a hash bucket), for tables filled by the parser (values still
 * in the head's bytes) and by adds.
 */
class HeadFieldsTest {
    private static final String[] NAMES = {
        "Host", "host", "HOST", "hOsT", "Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive",
        "TE", "te", "Te", "Trailer", "trailer", "Upgrade", "upgrade", "Proxy-Connection", "proxy-connection",
        "Transfer-Encoding", "transfer-encoding", "Content-Length", "content-length", "X-Forwarded-For",
        "x-forwarded-for", "X-FORWARDED-PROTO", "x-forwarded-host", "Forwarded", "forwarded", "Via", "via",
        "X-Request-Id", "X-Request-ID", "x-request-id", "Strict-Transport-Security", "Set-Cookie", "Expect",
        "Range", "X-Custom", "x-custom", "X-CUSTOM", "X-Other", "Accept", "Date", "Server", "ETag", "etag", "Connection", "connection",
        "Vary", "Hosts", "Hos", "Connectio", "Content-Lengths", "grpc-timeout", "A", "b", "x-forwarded-port",
    };
    private static final String[] VALUES = {"close", "keep-alive", "Close, Upgrade", "chunked", "gzip , chunked",
        "a,", "trailers", "x", "12", "keep-alive, te"};

    @Test
    void everySpellingOfANameWithAnIdHasThatId() {
        for (String n : NAMES) {
            int id = HeadWords.id(n);
            assertThat(HeadWords.id(AsciiString.of(n))).as(n).isEqualTo(id);
            assertThat(HeadWords.id(n.toUpperCase(Locale.ROOT))).as(n).isEqualTo(id);
            assertThat(HeadWords.id(n.toLowerCase(Locale.ROOT))).as(n).isEqualTo(id);
            byte[] b = ("::" + n + ":").getBytes(StandardCharsets.US_ASCII);
            int found = HeadWords.lookUp(b, 2, n.length());
            assertThat(found < 0 ? HeadWords.NONE : found >> 3).as(n).isEqualTo(id);
            AsciiString form = HeadWords.form(found);
            if (form != null) {
                assertThat(form.toString()).isEqualTo(n);
            }
        }
        assertThat(HeadWords.id(HttpHeaderNames.HOST)).isNotEqualTo(HeadWords.NONE);
        assertThat(HeadWords.id("x-custom")).isEqualTo(HeadWords.NONE);
        assertThat(HeadWords.name("Host".getBytes(StandardCharsets.US_ASCII), 0, 4).toString()).isEqualTo("Host");
        assertThat((Object) HeadWords.name("HOST".getBytes(StandardCharsets.US_ASCII), 0, 4)).isNull();
        assertThat((Object) HeadWords.lowerCase(HeadWords.name("Content-Type".getBytes(StandardCharsets.US_ASCII), 0, 12)))
                .isSameAs(HttpHeaderNames.CONTENT_TYPE);
        assertThat(HeadWords.lowerCase(AsciiString.of("X-Custom")).toString()).isEqualTo("x-custom");
    }

    @Test
    void answersAsNettysTableAfterRandomEdits() {
        Random random = new Random(20261206);
        for (int round = 0; round < 3000; round++) {
            HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
            HeadFields ours = round % 2 == 0 ? parsed(random, netty) : new HeadFields(null, random.nextInt(3));
            boolean only = true;
            for (String v : netty.getAll(HttpHeaderNames.CONNECTION)) {
                for (String e : v.split(",", -1)) {
                    String t = e.trim();
                    only &= t.isEmpty() || t.equalsIgnoreCase("keep-alive") || t.equalsIgnoreCase("close");
                }
            }
            if (round % 2 == 0) {
                assertThat(ours.elementsOnly(HttpHeaderNames.CONNECTION, "keep-alive", "close")).as("round " + round)
                        .isEqualTo(only);
            }
            int edits = random.nextInt(12);
            for (int e = 0; e < edits; e++) {
                String n = NAMES[random.nextInt(NAMES.length)];
                String v = VALUES[random.nextInt(VALUES.length)];
                switch (random.nextInt(6)) {
                    case 0, 1 -> {
                        netty.add(n, v);
                        ours.add(n, v);
                    }
                    case 2 -> {
                        netty.set(n, v);
                        ours.set(n, v);
                    }
                    case 3 -> {
                        netty.remove(n);
                        ours.remove(n);
                    }
                    case 4 -> {
                        HeadFields.NameSet set = new HeadFields.NameSet(HttpHeaderNames.KEEP_ALIVE,
                                HttpHeaderNames.TE, HttpHeaderNames.UPGRADE, HeadWords.FORWARDED);
                        set.removeFrom(netty);
                        set.removeFrom(ours);
                    }
                    default -> {
                        AsciiString own = random.nextBoolean() ? HeadWords.X_REQUEST_ID : HeadWords.X_FORWARDED_FOR;
                        netty.add(own, v);
                        ours.addOwn(own, v);
                    }
                }
            }
            assertSame(netty, ours, "round " + round);
        }
    }

    /** A head read by the parser's grammar into a table over its bytes, and the same fields added to {@code netty}. */
    /** Two server connections' heads (two tables) parsed on one thread, as on one event loop. */
    private static HeadFields parsed(String head) {
        byte[] b = head.getBytes(StandardCharsets.US_ASCII);
        HeadBuffer buffer = new HeadBuffer(b.length, 2);
        byte[] into = buffer.refill(b.length);
        System.arraycopy(b, 0, into, 0, b.length);
        assertThat(HeadLines.fields(into, 0, b.length, buffer.fields(), true)).isEqualTo(b.length);
        return buffer.fields();
    }

    @Test
    void oneLoopsTablesHandTheSameValueInstanceForANameWithAnId() {
        String head = "Server: nginx\r\nContent-Type: text/plain\r\nX-Custom: one\r\n\r\n";
        HeadFields a = parsed(head);
        HeadFields b = parsed(head);
        // By name id, whichever table read it: HPACK's tables then find the value by identity.
        AsciiString server = a.asciiValueAt(0);
        assertThat((Object) b.asciiValueAt(0)).isSameAs(server);
        assertThat((Object) b.asciiValueAt(1)).isSameAs(a.asciiValueAt(1));
        assertThat(b.asciiValueAt(1).toString()).isEqualTo("text/plain");
        // A name without an id keeps its value per table.
        assertThat((Object) b.asciiValueAt(2)).isNotSameAs(a.asciiValueAt(2)).isEqualTo(a.asciiValueAt(2));
        // Other bytes, another instance, with those bytes.
        HeadFields c = parsed("Server: apache\r\n\r\n");
        assertThat(c.asciiValueAt(0).toString()).isEqualTo("apache");
        assertThat((Object) parsed(head).asciiValueAt(0)).isNotSameAs(server);
        assertThat(parsed(head).asciiValueAt(0).toString()).isEqualTo("nginx");
    }

    private static HeadFields parsed(Random random, HttpHeaders netty) {
        StringBuilder head = new StringBuilder();
        int n = random.nextInt(8);
        for (int i = 0; i < n; i++) {
            String name = NAMES[random.nextInt(NAMES.length)];
            String value = VALUES[random.nextInt(VALUES.length)].trim();
            head.append(name).append(": ").append(value).append("\r\n");
            netty.add(name, value);
        }
        head.append("\r\n");
        byte[] b = head.toString().getBytes(StandardCharsets.US_ASCII);
        HeadBuffer buffer = new HeadBuffer(b.length, 2);
        byte[] into = buffer.refill(b.length);
        System.arraycopy(b, 0, into, 0, b.length);
        assertThat(HeadLines.fields(into, 0, b.length, buffer.fields(), true)).isEqualTo(b.length);
        return buffer.fields();
    }

    private static void assertSame(HttpHeaders netty, HeadFields ours, String as) {
        assertThat(ours.size()).as(as).isEqualTo(netty.size());
        for (String n : NAMES) {
            String at = as + " " + n;
            assertThat(ours.contains(n)).as(at).isEqualTo(netty.contains(n));
            assertThat(ours.contains(AsciiString.of(n))).as(at).isEqualTo(netty.contains(n));
            assertThat(ours.get(n)).as(at).isEqualTo(netty.get(n));
            assertThat(ours.getAll(n)).as(at).isEqualTo(netty.getAll(n));
            assertThat(HeadFields.count(ours, n)).as(at).isEqualTo(netty.getAll(n).size());
            for (String v : List.of("close", "chunked", "keep-alive", "CLOSE", "te", "trailers")) {
                assertThat(ours.containsValue(n, v, true)).as(at + " " + v).isEqualTo(netty.containsValue(n, v, true));
                assertThat(ours.containsValue(n, v, false)).as(at + " " + v).isEqualTo(netty.containsValue(n, v, false));
            }
        }
        List<String> order = new ArrayList<>();
        netty.forEach(e -> order.add(e.getKey().toLowerCase(Locale.ROOT) + "=" + e.getValue()));
        List<String> ourOrder = new ArrayList<>();
        ours.forEach(e -> ourOrder.add(e.getKey().toLowerCase(Locale.ROOT) + "=" + e.getValue()));
        // Netty's table iterates in insertion order; so does ours.
        assertThat(ourOrder).as(as).isEqualTo(order);
        var buf = Unpooled.buffer();
        ours.encode(buf);
        buf.release();
    }
}
