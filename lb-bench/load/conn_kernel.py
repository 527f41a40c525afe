#!/usr/bin/env python3
"""Buckets a perf record -g profile of the proxy CPU (conn_ops.py MODES=kprof) by kernel operation, in µs per
connection: the first category whose function is on a sample's stack takes it.
Usage: conn_kernel.py PERF_DATA CONNECTIONS COMM_PREFIX [-v]"""
import collections, subprocess, sys
data, conns, comm = sys.argv[1], int(sys.argv[2]), sys.argv[3]
freq = 4999
CATS = [("connect", ("tcp_v4_connect", "__inet_stream_connect", "inet_stream_connect", "__sys_connect", "io_connect")),
        ("close (fput, tcp_close)", ("__fput", "tcp_close", "io_close", "__x64_sys_close", "filp_flush", "file_close_fd", "filp_close")),
        ("shutdown", ("inet_shutdown", "tcp_shutdown", "__sys_shutdown")),
        ("send", ("tcp_sendmsg", "tcp_sendmsg_locked", "do_writev", "sock_write_iter", "__sys_sendto", "io_send", "io_sendmsg", "io_write")),
        ("recv", ("tcp_recvmsg", "tcp_recvmsg_locked", "__sys_recvfrom", "sock_recvmsg", "inet_recvmsg", "io_recv")),
        ("accept", ("do_accept", "inet_accept", "io_accept")),
        ("socket", ("__sys_socket", "__sock_create", "io_socket")),
        ("setsockopt", ("__sys_setsockopt", "do_sock_setsockopt")),
        ("getsockopt", ("__sys_getsockopt", "do_sock_getsockopt")),
        ("getsockname/getpeername", ("__sys_getsockname", "__sys_getpeername")),
        ("poll/epoll", ("io_poll_add", "__io_arm_poll_handler", "io_poll_task_func", "io_poll_wake", "io_poll_remove",
                        "do_epoll_ctl", "ep_poll", "do_epoll_wait", "ep_insert", "ep_remove", "io_poll_check_events",
                        "vfs_poll", "tcp_poll", "sock_poll")),
        ("cancel", ("io_async_cancel", "io_try_cancel")),
        ("fcntl/ioctl", ("do_fcntl", "do_vfs_ioctl", "sock_ioctl")),
        ("schedule/idle wait", ("schedule", "__schedule", "io_cqring_wait")),
        ("softirq/irq", ("net_rx_action", "__do_softirq", "handle_softirqs", "asm_common_interrupt",
                         "asm_sysvec_apic_timer_interrupt")),
        ("page fault", ("exc_page_fault",))]
out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], text=True, capture_output=True).stdout
b = collections.Counter(); user = kern = 0; other = collections.Counter()
for block in out.split("\n\n"):
    ls = [l.split() for l in block.strip().splitlines()]
    if not ls or not ls[0] or not ls[0][0].startswith(comm):
        continue
    fr = [p for p in ls[1:] if p]
    if not fr:
        continue
    if not fr[0][0].startswith("ffffffff"):
        user += 1
        continue
    kern += 1
    names = set(p[1] for p in fr if len(p) > 1 and p[0].startswith("ffffffff"))
    for cat, fns in CATS:
        if names & set(fns):
            b[cat] += 1
            break
    else:
        b["other"] += 1
        ks = [p[1] for p in fr if len(p) > 1 and p[0].startswith("ffffffff")]
        other[" > ".join(list(reversed(ks))[:4])] += 1
us = lambda n: n / freq * 1e6 / conns
print(f"{comm}: user {us(user):.1f} µs/conn, kernel {us(kern):.1f} µs/conn ({conns} conns)")
for k, v in b.most_common():
    print(f"  {us(v):6.2f}  {k}")
if "-v" in sys.argv:
    for k, v in other.most_common(8):
        print(f"     other {us(v):5.2f} {k}")
