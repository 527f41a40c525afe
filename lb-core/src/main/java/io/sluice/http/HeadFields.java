package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map.Entry;
import java.util.Set;

/**
 * The header fields of an HTTP/1.1 head as two small arrays, in place of Netty's hashed table (a bucket array
 * and an entry object per field: a head has a dozen fields at most, and a linear scan of them is as quick).
 * For a head read by {@link RequestHeadParser}, names are shared {@link HeadWords} (or views of the head's
 * bytes) and values stay offsets into the one copy of the head until someone reads them as strings; Netty's
 * decoders fill it through {@link #factory} (heads and trailers) with the strings they make. Edits (removing hop-by-hop fields, adding the forwarding ones) change the table in place, in the
 * order Netty's {@code DefaultHttpHeaders} would keep, and {@link #encode} writes the fields toward the server as
 * Netty's encoder would ({@code name: value} CRLF), copying unread values straight from the head's bytes.
 * Validates added names and values as Netty's validating headers do.
 */
final class HeadFields extends HttpHeaders {
    /** Room for the fields Sluice adds to nearly every request (X-Forwarded-*, X-Request-Id, Via, ...). */
    private static final int SPARE = 6;
    /** Fields a table filled by Netty's decoders makes room for at first: a response head has a few. */
    private static final int FIRST = 4;
    private static final Object[] NO_FIELDS = {};
    private static final int[] NO_OFFSETS = {};
    private static final byte[] NO_IDS = {};
    private static final int HOST = HeadWords.id(HttpHeaderNames.HOST);
    /** For Netty's decoders: the fields' table; trailers, nearly always empty, allocate only when one comes. */
    private static final HttpHeadersFactory FACTORY = new HttpHeadersFactory() {
        @Override
        public HttpHeaders newHeaders() {
            return new HeadFields(null, 0);
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return new HeadFields(null, 0);
        }
    };

    /** Null when the values were given as strings. */
    private byte[] head;
    /** Per field: name at 2i, value at 2i+1 (null while the value is still the bytes at its offsets). */
    private Object[] fields;
    /** Per field: value start at 2i, value end at 2i+1, in {@link #head}. */
    private int[] offsets;
    /** Per field, its name's {@link HeadWords#id} ({@link HeadWords#NONE} for other names). */
    private byte[] ids;
    /**
     * Bit n set: a field has the name of id n. Most lookups are of a name the head does not have (Transfer-Encoding,
     * Upgrade, TE, X-Request-Id, the hop-by-hop names...): one bit test instead of a pass over the fields.
     */
    private long present;
    private int size;
    /**
     * The Host value last read as a string, kept across {@link #reuse}: the heads of one client connection
     * nearly always name the same host, and every request's is read (routing, X-Forwarded-Host).
     */
    private String lastHost;
    /**
     * Per field position, the value {@link #asciiValueAt} last made for a field whose name has no id, kept
     * across {@link #reuse}: a server connection's responses mostly repeat their values, and the same instance
     * spares a copy and lets HPACK find its hash cached. Null until first asked.
     */
    private AsciiString[] lastValues;
    /**
     * Per thread (an event loop), per name id, the value {@link #asciiValueAt} last made for a field of that
     * name, whichever table made it: the servers of a cluster answer with the same Server, Content-Type, Date
     * (within a second) and often length, and one instance for all of a loop's server connections lets every
     * client connection's HPACK table find it by identity (a table entry added from another server
     * connection's instance was compared byte by byte).
     */
    private static final FastThreadLocal<AsciiString[]> LOOP_VALUES = new FastThreadLocal<>() {
        @Override
        protected AsciiString[] initialValue() {
            return new AsciiString[64];
        }
    };

    /** How many fields the table has room for before it grows again. */
    int capacity() {
        return fields.length / 2;
    }

    /** {@code expected}: fields to make room for now (more grow the table); 0: none until the first. */
    HeadFields(byte[] head, int expected) {
        this.head = head;
        if (expected == 0) {
            this.fields = NO_FIELDS;
            this.offsets = NO_OFFSETS;
            this.ids = NO_IDS;
        } else {
            int cap = expected + SPARE;
            this.fields = new Object[2 * cap];
            this.offsets = head == null ? NO_OFFSETS : new int[2 * cap];
            this.ids = new byte[cap];
        }
    }

    /** Validating as Netty's default factories do (token names; no CR, LF or NUL in values). */
    static HttpHeadersFactory factory() {
        return FACTORY;
    }

    /** Read by {@link RequestHeadParser} (values over the head's bytes), not filled by Netty's decoders. */
    boolean overHeadBytes() {
        return head != null;
    }

    /**
     * For the owner of a table it reuses (a server connection's {@link PlainResponse}): empty again, over new
     * head bytes. Only once nothing reads the table any more.
     */
    void reuse(byte[] newHead) {
        clear();
        head = newHead;
    }

    /**
     * The value of the one field named {@code name} as a decimal number of at most 18 digits; -1 when there is
     * no such field, more than one, or another value. Reads the head's bytes: no string is made.
     */
    long number(CharSequence name) {
        int id = HeadWords.id(name);
        if (absent(id)) {
            return -1;
        }
        int at = -1;
        for (int i = 0; i < size; i++) {
            if (named(i, id, name)) {
                if (at >= 0) {
                    return -1;
                }
                at = i;
            }
        }
        if (at < 0) {
            return -1;
        }
        Object v = fields[2 * at + 1];
        return v == null ? digits(head, offsets[2 * at], offsets[2 * at + 1]) : digits(v.toString());
    }

    private static long digits(byte[] b, int start, int end) {
        if (end == start || end - start > 18) {
            return -1;
        }
        long n = 0;
        for (int i = start; i < end; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            n = n * 10 + d;
        }
        return n;
    }

    private static long digits(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return digits(b, 0, b.length);
    }

    /** For the parser: a field whose value is head[start, end); {@code id}: its name's {@link HeadWords#id}. */
    void addRaw(AsciiString name, int id, int start, int end) {
        int i = slot(id);
        fields[2 * i] = name;
        fields[2 * i + 1] = null; // not read yet (a cleared table keeps what its places held: see clear)
        offsets[2 * i] = start;
        offsets[2 * i + 1] = end;
    }

    /** A place for one more field, named by {@code id}. */
    private int slot(int id) {
        if (size * 2 == fields.length) {
            int cap = size == 0 ? 2 * FIRST : fields.length * 2;
            fields = java.util.Arrays.copyOf(fields, cap);
            offsets = head == null ? offsets : java.util.Arrays.copyOf(offsets, cap);
            ids = java.util.Arrays.copyOf(ids, cap / 2);
        }
        ids[size] = (byte) id;
        if (id != HeadWords.NONE) {
            present |= 1L << id;
        }
        return size++;
    }

    /** No field can have the name of {@code id} (a name with no id may be anywhere). */
    private boolean absent(int id) {
        return id != HeadWords.NONE && (present & 1L << id) == 0;
    }

    /** Whether field {@code i} is named {@code name}, whose {@link HeadWords#id} is {@code id}. */
    private boolean named(int i, int id, CharSequence name) {
        int own = ids[i];
        return id != HeadWords.NONE ? own == id
                : own == HeadWords.NONE && AsciiString.contentEqualsIgnoreCase((CharSequence) fields[2 * i], name);
    }

    private String value(int i) {
        Object v = fields[2 * i + 1];
        if (v == null) {
            int start = offsets[2 * i];
            int end = offsets[2 * i + 1];
            boolean host = ids[i] == HOST;
            String s = host && sameAscii(lastHost, head, start, end) ? lastHost
                    : new String(head, start, end - start, StandardCharsets.ISO_8859_1);
            if (host) {
                lastHost = s;
            }
            fields[2 * i + 1] = s;
            return s;
        }
        return v.toString();
    }

    /** The name of field {@code i} (0 to size - 1): a copy of the fields needs no entry objects. */
    CharSequence nameAt(int i) {
        return (CharSequence) fields[2 * i];
    }

    /** The {@link HeadWords#id} of field {@code i}'s name, {@link HeadWords#NONE} for a name without one. */
    int idAt(int i) {
        return ids[i];
    }

    /** The value of field {@code i}. */
    CharSequence valueAt(int i) {
        Object v = fields[2 * i + 1];
        return v instanceof CharSequence cs ? cs : value(i);
    }

    /**
     * The value of field {@code i} as its own {@link AsciiString} (HPACK hashes, compares and copies those by
     * bytes): an unread value straight from the head's bytes, without the string {@link #valueAt} would make
     * and keep, or the one made before for the same name when the bytes are the same (see {@link #LOOP_VALUES},
     * {@link #lastValues}). A copy, never a view: the head's bytes are refilled, and HPACK's dynamic table keeps
     * values.
     */
    AsciiString asciiValueAt(int i) {
        Object v = fields[2 * i + 1];
        if (v == null) {
            int start = offsets[2 * i];
            int end = offsets[2 * i + 1];
            int id = ids[i];
            AsciiString[] last;
            int at;
            if (id != HeadWords.NONE) {
                last = LOOP_VALUES.get();
                at = id;
            } else {
                last = lastValues;
                if (last == null || last.length <= i) {
                    last = lastValues = java.util.Arrays.copyOf(last == null ? new AsciiString[0] : last, size);
                }
                at = i;
            }
            AsciiString before = last[at];
            if (before != null && before.length() == end - start
                    && HeadWords.sameBytes(before.array(), before.arrayOffset(), head, start, end - start)) {
                return before;
            }
            return last[at] = new AsciiString(head, start, end - start, true);
        }
        return v instanceof AsciiString a ? a : new AsciiString((CharSequence) v);
    }


    private static boolean sameAscii(String s, byte[] b, int start, int end) {
        if (s == null || s.length() != end - start) {
            return false;
        }
        for (int i = start; i < end; i++) {
            if (s.charAt(i - start) != b[i]) {
                return false;
            }
        }
        return true;
    }

    private int indexOf(CharSequence name) {
        return indexOf(name, HeadWords.id(name));
    }

    private int indexOf(CharSequence name, int id) {
        if (absent(id)) {
            return -1;
        }
        for (int i = 0; i < size; i++) {
            if (named(i, id, name)) {
                return i;
            }
        }
        return -1;
    }

    // Reads.

    /** How many fields are named {@code name}, without the list {@code getAll} makes when {@code h} is a table. */
    static int count(HttpHeaders h, CharSequence name) {
        if (!(h instanceof HeadFields f)) {
            return h.getAll(name).size();
        }
        int id = HeadWords.id(name);
        if (f.absent(id)) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < f.size; i++) {
            if (f.named(i, id, name)) {
                n++;
            }
        }
        return n;
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name);
        return i < 0 ? null : value(i);
    }

    @Override
    public String get(CharSequence name, String defaultValue) {
        String v = get(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Integer getInt(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Short.parseShort(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        Date d = io.netty.handler.codec.DateFormatter.parseHttpDate(v);
        return d == null ? null : d.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int n = count(this, name);
        if (n < 2) {
            // Netty's decoder asks for every head's Content-Length: one field, no list to grow. Read-only, as
            // Netty's own getAll (its decoder's trailer obs-fold handling relies on that to fail).
            int i = n == 0 ? -1 : indexOf(name);
            return i < 0 ? Collections.emptyList() : Collections.singletonList(value(i));
        }
        List<String> out = new ArrayList<>(n);
        int id = HeadWords.id(name);
        for (int i = 0; i < size; i++) {
            if (named(i, id, name)) {
                out.add(value(i));
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public List<Entry<String, String>> entries() {
        List<Entry<String, String>> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(new SimpleImmutableEntry<>(fields[2 * i].toString(), value(i)));
        }
        return out;
    }

    @Override
    public boolean contains(String name) {
        return contains((CharSequence) name);
    }

    /**
     * For a name with an id, the {@link #present} bit alone (every add sets it, every removal recomputes it):
     * asked of every request (Host, the hop-by-hop names, Content-Length), where the pass over the fields showed
     * at 1-2% of the event loop.
     */
    @Override
    public boolean contains(CharSequence name) {
        int id = HeadWords.id(name);
        return id != HeadWords.NONE ? (present & 1L << id) != 0 : indexOf(name, id) >= 0;
    }

    /**
     * As Netty's: whether a field named {@code name} has {@code value} as one of its comma-separated elements
     * (trimmed, ASCII case ignored when asked), without the list of values and the sub-sequences Netty's makes.
     * Asked of every request (Connection, Transfer-Encoding, TE) on the way in and by the encoder on the way out.
     */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        int id = HeadWords.id(name);
        if (absent(id)) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            if (named(i, id, name)) {
                Object v = fields[2 * i + 1];
                if (v == null ? hasElement(head, offsets[2 * i], offsets[2 * i + 1], value, ignoreCase)
                        : hasElement((CharSequence) v, value, ignoreCase)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether every comma-separated element of every field named {@code name} is empty or one of {@code a} and
     * {@code b} (ASCII case ignored): a server's "Connection: keep-alive" names no field to remove, which this
     * says without making the value a string.
     */
    boolean elementsOnly(CharSequence name, CharSequence a, CharSequence b) {
        int id = HeadWords.id(name);
        if (absent(id)) {
            return true;
        }
        for (int i = 0; i < size; i++) {
            if (named(i, id, name)) {
                Object v = fields[2 * i + 1];
                if (v != null) {
                    return false; // read as a string already: the caller's general way
                }
                int begin = offsets[2 * i];
                int to = offsets[2 * i + 1];
                while (begin <= to) {
                    int end = begin;
                    while (end < to && head[end] != ',') {
                        end++;
                    }
                    int st = begin;
                    int e = end;
                    while (st < e && (head[st] & 0xff) <= ' ') {
                        st++;
                    }
                    while (e > st && (head[e - 1] & 0xff) <= ' ') {
                        e--;
                    }
                    if (e > st && !sameBytes(head, st, e, a, true) && !sameBytes(head, st, e, b, true)) {
                        return false;
                    }
                    begin = end + 1;
                }
            }
        }
        return true;
    }

    /** {@link #hasElement(CharSequence, CharSequence, boolean)} over a value still in the head's bytes. */
    private static boolean hasElement(byte[] b, int from, int to, CharSequence expected, boolean ignoreCase) {
        int begin = from;
        while (true) {
            int end = begin;
            while (end < to && b[end] != ',') {
                end++;
            }
            int s = begin;
            int e = end;
            while (s < e && (b[s] & 0xff) <= ' ') {
                s++;
            }
            while (e > s && (b[e - 1] & 0xff) <= ' ') {
                e--;
            }
            if (sameBytes(b, s, e, expected, ignoreCase)) {
                return true;
            }
            if (end >= to - 1) {
                return false; // Netty's reads no element after a trailing comma
            }
            begin = end + 1;
        }
    }

    private static boolean sameBytes(byte[] b, int start, int end, CharSequence expected, boolean ignoreCase) {
        if (end - start != expected.length()) {
            return false;
        }
        for (int i = start; i < end; i++) {
            char a = (char) (b[i] & 0xff);
            char c = expected.charAt(i - start);
            if (a != c && (!ignoreCase || lower(a) != lower(c))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasElement(CharSequence list, CharSequence expected, boolean ignoreCase) {
        int n = list.length();
        int begin = 0;
        while (true) {
            int end = begin;
            while (end < n && list.charAt(end) != ',') {
                end++;
            }
            int s = begin;
            int e = end;
            while (s < e && list.charAt(s) <= ' ') {
                s++;
            }
            while (e > s && list.charAt(e - 1) <= ' ') {
                e--;
            }
            if (sameChars(list, s, e, expected, ignoreCase)) {
                return true;
            }
            if (end >= n - 1) {
                return false; // Netty's reads no element after a trailing comma
            }
            begin = end + 1;
        }
    }

    private static boolean sameChars(CharSequence s, int start, int end, CharSequence expected, boolean ignoreCase) {
        if (end - start != expected.length()) {
            return false;
        }
        for (int i = start; i < end; i++) {
            char a = s.charAt(i);
            char b = expected.charAt(i - start);
            if (a != b && (!ignoreCase || lower(a) != lower(b))) {
                return false;
            }
        }
        return true;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }

    @Override
    public Iterator<Entry<String, String>> iterator() {
        return entries().iterator();
    }

    @Override
    public Iterator<Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        List<Entry<CharSequence, CharSequence>> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            Object v = fields[2 * i + 1];
            out.add(new SimpleImmutableEntry<>((CharSequence) fields[2 * i],
                    v instanceof CharSequence cs ? cs : value(i)));
        }
        return out.iterator();
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < size; i++) {
            out.add(fields[2 * i].toString());
        }
        return out;
    }

    // Edits.

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        CharSequence n = validName(name);
        CharSequence v = validValue(value);
        int i = slot(HeadWords.id(n));
        fields[2 * i] = n;
        fields[2 * i + 1] = v;
        return this;
    }

    /**
     * For the fields Sluice itself adds (X-Forwarded-*, Via, X-Request-Id): a constant name and a value Sluice
     * made, known to be valid, so not checked again character by character as a client's are.
     */
    void addOwn(AsciiString name, CharSequence value) {
        int i = slot(HeadWords.id(name));
        fields[2 * i] = name;
        fields[2 * i + 1] = value;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        for (Object v : values) {
            add(name, v);
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return add(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return add(name, Short.toString(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence v = validValue(value);
        CharSequence n = validName(name);
        int id = HeadWords.id(n);
        remove(n, id, 0L);
        int i = slot(id);
        fields[2 * i] = n;
        fields[2 * i + 1] = v;
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        remove(name);
        return add(name, values);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        return remove(name, HeadWords.id(name), 0L);
    }

    /**
     * Names that {@link #removeFrom} takes out of a table in one pass, each with a {@link HeadWords#id}: a table
     * that has none of them (nearly every one, for the hop-by-hop and forwarding names a proxy removes) is passed
     * over at once.
     */
    static final class NameSet {
        private final AsciiString[] names;
        private final long ids;

        NameSet(AsciiString... names) {
            this.names = names.clone();
            this.ids = HeadWords.ids(names);
        }

        /** Each name, for a table that is not a {@link HeadFields}. */
        void removeFrom(HttpHeaders h) {
            if (h instanceof HeadFields f) {
                f.remove(null, HeadWords.NONE, ids);
            } else {
                for (AsciiString n : names) {
                    h.remove(n);
                }
            }
        }
    }

    /** Whether a field has one of {@code set}'s names. */
    boolean hasAny(NameSet set) {
        return (present & set.ids) != 0;
    }

    /**
     * Removes every field named {@code name} (whose {@link HeadWords#id} is {@code id}), or, with {@code set} not
     * 0, every field whose id is in that set of ids.
     */
    private HttpHeaders remove(CharSequence name, int id, long set) {
        if (set != 0 ? (present & set) == 0 : absent(id)) {
            return this;
        }
        int kept = 0;
        long left = 0;
        for (int i = 0; i < size; i++) {
            int own = ids[i];
            boolean gone = set != 0 ? own != HeadWords.NONE && (set & 1L << own) != 0 : named(i, id, name);
            if (!gone) {
                if (kept != i) {
                    fields[2 * kept] = fields[2 * i];
                    fields[2 * kept + 1] = fields[2 * i + 1];
                    ids[kept] = ids[i];
                    if (head != null) {
                        offsets[2 * kept] = offsets[2 * i];
                        offsets[2 * kept + 1] = offsets[2 * i + 1];
                    }
                }
                if (own != HeadWords.NONE) {
                    left |= 1L << own;
                }
                kept++;
            }
        }
        for (int i = kept; i < size; i++) {
            fields[2 * i] = null;
            fields[2 * i + 1] = null;
        }
        size = kept;
        present = left;
        return this;
    }

    @Override
    public HttpHeaders clear() {
        // The places keep the previous head's names and values until written again (every add writes both): a
        // table is cleared for every head it is reused for, and the stores cost more than the few objects kept.
        size = 0;
        present = 0;
        return this;
    }

    private static CharSequence validName(CharSequence name) {
        if (name == null || name.length() == 0 || HttpHeaderValidationUtil.validateToken(name) != -1) {
            throw new IllegalArgumentException("a header name can only contain \"token\" characters, but found "
                    + "an invalid one in: " + name);
        }
        return name;
    }

    /** {@code value} when it may be a field's value (no CR, LF, NUL...), else IllegalArgumentException. */
    static CharSequence checkedValue(CharSequence value) {
        return validValue(value);
    }

    private static CharSequence validValue(Object value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        CharSequence v = value instanceof CharSequence cs ? cs
                : value instanceof Date d ? io.netty.handler.codec.DateFormatter.format(d) : value.toString();
        if (HttpHeaderValidationUtil.validateValidHeaderValue(v) != -1) {
            throw new IllegalArgumentException("a header value contains a prohibited character: " + v);
        }
        return v;
    }

    /**
     * The fields as Netty's encoder writes them; unread values are copied from the head's bytes. Spelled into the
     * thread's {@link HeadBytes} first and handed to {@code buf} in one copy.
     */
    void encode(ByteBuf buf) {
        HeadBytes out = HeadBytes.start(0);
        encode(out);
        out.writeTo(buf);
    }

    /** The fields to {@code out}, making room for each as it goes. */
    void encode(HeadBytes out) {
        for (int i = 0; i < size; i++) {
            CharSequence name = (CharSequence) fields[2 * i];
            CharSequence value = (CharSequence) fields[2 * i + 1];
            int start = 0;
            int end = 0;
            if (value == null) {
                start = offsets[2 * i];
                end = offsets[2 * i + 1];
            }
            out.room(name.length() + (value == null ? end - start : value.length()) + 4);
            out.ascii(name);
            out.put((byte) ':');
            out.put((byte) ' ');
            if (value == null) {
                out.raw(head, start, end); // not read yet: still the head's bytes
            } else {
                out.ascii(value);
            }
            out.crlf();
        }
    }
}
