package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.testing.ClientHellos;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ClientHelloSniTest {

    /** The ClientHello body (after the record and handshake headers) a JDK client sends for {@code name}. */
    static byte[] jdkHelloBody(String name) throws Exception {
        byte[] record = ClientHellos.jdk(name);
        return Arrays.copyOfRange(record, 9, record.length);
    }

    private static String read(byte[] body) throws ClientHelloSni.MalformedHello {
        ByteBuf b = Unpooled.wrappedBuffer(body);
        try {
            return ClientHelloSni.serverName(b);
        } finally {
            assertThat(b.readerIndex()).as("the hello is read, not consumed").isZero();
            b.release();
        }
    }

    @Test
    void readsTheServerNameInLowerCase() throws Exception {
        assertThat(read(jdkHelloBody("API.Example.com"))).isEqualTo("api.example.com");
    }

    @Test
    void aFullyQualifiedNameLosesItsTrailingDot() throws Exception {
        // The JDK will not send one: a hand-made hello (the message's 4-byte header dropped) does.
        byte[] message = ClientHellos.postQuantum("api.example.com.", 0);
        assertThat(read(Arrays.copyOfRange(message, 4, message.length))).isEqualTo("api.example.com");
    }

    @Test
    void aHelloWithoutServerNameHasNone() throws Exception {
        assertThat(read(jdkHelloBody(null))).isNull();
        // TLS 1.2 style: no extensions block at all.
        byte[] bare = new byte[2 + 32 + 1 + 2 + 2 + 2];
        bare[0] = 3;
        bare[1] = 3;
        bare[36] = 2;
        bare[39] = 1;
        assertThat(read(bare)).isNull();
    }

    @Test
    void everyTruncationIsMalformedNeverAnotherError() throws Exception {
        byte[] body = jdkHelloBody("api.example.com");
        for (int n = 0; n < body.length; n++) {
            byte[] cut = Arrays.copyOf(body, n);
            try {
                read(cut);
            } catch (ClientHelloSni.MalformedHello expected) {
                // refused; only a cut right before the extensions reads as a hello without them
            }
        }
    }

    @Test
    void aNameWithBytesNoHostNameHasIsMalformed() throws Exception {
        byte[] body = jdkHelloBody("api.example.com");
        String text = new String(body, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("api.example.com");
        body[at + 3] = (byte) 0xC3;
        assertThatThrownBy(() -> read(body)).isInstanceOf(ClientHelloSni.MalformedHello.class);
    }
}
