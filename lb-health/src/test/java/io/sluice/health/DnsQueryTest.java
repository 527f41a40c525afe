package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The DNS check's message: a query as RFC 1035 lays it out, and which answers pass. */
class DnsQueryTest {
    @Test
    void writesOneQuestionWithRecursionDesired() {
        ByteBuf out = Unpooled.buffer();
        try {
            new DnsQuery("x.test.", 28, Set.of(0)).write(0xBEEF, out);
            assertThat(ByteBufUtil.hexDump(out)).isEqualTo("beef" + "0100" + "0001" + "0000" + "0000" + "0000"
                    + "0178" + "0474657374" + "00" + "001c" + "0001");
        } finally {
            out.release();
        }
    }

    private static ByteBuf answer(int id, int flags2) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(id).writeByte(0x81).writeByte(flags2).writeShort(1).writeShort(0).writeShort(0).writeShort(0);
        return b;
    }

    @Test
    void passesOnAnExpectedRcodeAndIgnoresOtherIds() {
        DnsQuery q = new DnsQuery("x.test", 1, Set.of(0, 3));
        ByteBuf ok = answer(7, 0x80);
        ByteBuf nx = answer(7, 0x83);
        ByteBuf servfail = answer(7, 0x82);
        ByteBuf other = answer(8, 0x80);
        ByteBuf shortOne = Unpooled.buffer().writeShort(7);
        try {
            assertThat(q.judge(7, ok)).isNull();
            assertThat(q.judge(7, nx)).isNull();
            assertThat(q.judge(7, servfail)).isEqualTo("rcode SERVFAIL");
            assertThat(q.judge(7, other)).isEqualTo(DnsQuery.NOT_OURS);
            assertThat(q.judge(7, shortOne)).startsWith("short answer");
        } finally {
            for (ByteBuf b : new ByteBuf[] {ok, nx, servfail, other, shortOne}) {
                b.release();
            }
        }
    }
}
