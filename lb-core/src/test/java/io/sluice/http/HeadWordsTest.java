package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The shared names and the byte compare the parsers' look-ups rest on. */
class HeadWordsTest {

    @Test
    void sameBytesAgreesWithTheJdksCompareForEveryLengthOffsetAndDifferingByte() {
        byte[] a = new byte[80];
        byte[] b = new byte[80];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) ('a' + i % 26);
        }
        for (int aStart : new int[] {0, 1, 7, 13}) {
            for (int bStart : new int[] {0, 3, 8, 11}) {
                for (int length = 0; length <= 40; length++) {
                    Arrays.fill(b, (byte) 0);
                    System.arraycopy(a, aStart, b, bStart, length);
                    assertThat(HeadWords.sameBytes(a, aStart, b, bStart, length)).as("equal, %d", length).isTrue();
                    for (int at = 0; at < length; at++) {
                        b[bStart + at] ^= 0x20; // a case difference is a difference
                        assertThat(HeadWords.sameBytes(a, aStart, b, bStart, length))
                                .as("length %d, byte %d differs", length, at).isFalse();
                        b[bStart + at] ^= 0x20;
                    }
                }
            }
        }
    }

    @Test
    void aReadNameFindsItsSpellingOrJustItsId() {
        for (String spelling : new String[] {"Content-Type", "content-type"}) {
            byte[] bytes = ("x" + spelling).getBytes(StandardCharsets.US_ASCII);
            AsciiString shared = HeadWords.name(bytes, 1, spelling.length());
            assertThat((Object) shared).isNotNull();
            assertThat(shared.toString()).isEqualTo(spelling);
        }
        byte[] odd = "CONTENT-TYPE".getBytes(StandardCharsets.US_ASCII);
        int found = HeadWords.lookUp(odd, 0, odd.length);
        assertThat(found >> 3).isEqualTo(HeadWords.id(HttpHeaderNames.CONTENT_TYPE));
        assertThat((Object) HeadWords.form(found)).as("no shared instance has these bytes").isNull();
        byte[] other = "X-Custom".getBytes(StandardCharsets.US_ASCII);
        assertThat(HeadWords.lookUp(other, 0, other.length)).isEqualTo(HeadWords.NONE);
    }

    @Test
    void theLowerCaseFormOfAnIdAndTheSetOfIds() {
        int id = HeadWords.id("Transfer-Encoding");
        assertThat((Object) HeadWords.canonical(id)).isSameAs(HttpHeaderNames.TRANSFER_ENCODING);
        long set = HeadWords.ids(HttpHeaderNames.HOST, HttpHeaderNames.TE);
        assertThat(Long.bitCount(set)).isEqualTo(2);
        assertThat(set & 1L << HeadWords.id(HttpHeaderNames.HOST)).isNotZero();
    }
}
