#!/usr/bin/env python3
"""Splits an event loop thread's user-space CPU samples (async-profiler collapsed stacks, `threads`) into work done
for a connection (anything under a channel, its pipeline, or a Sluice class other than the loop wrappers) and the
loop's own per-iteration work (Netty's run loop, task queue and scheduled-task checks, the io_uring handler's
completion and submission bookkeeping, the JNI call into io_uring_enter, LoopGuard, IoUringLoopTimer, LoopTime).
Usage: loop_share.py FILE.collapsed [THREAD_PREFIX]"""
import collections, re, sys

CONN = re.compile(r"AbstractIoUring(Stream)?Channel|IoUring(Server)?SocketChannel|AbstractChannelHandlerContext|"
                  r"DefaultChannelPipeline|io/netty/channel/AbstractChannel|io/netty/bootstrap|io/netty/handler|"
                  r"io/netty/util/concurrent/(Default)?Promise|io/netty/util/concurrent/PromiseTask|"
                  r"io/sluice/(?!net/LoopGuard|net/IoUringLoopTimer|net/LoopTime|net/ForwardingIoHandler)")
LOOP_PARTS = [
    ("Sluice wrappers (LoopGuard, IoUringLoopTimer, LoopTime)", re.compile(r"io/sluice/net/(LoopGuard|IoUringLoopTimer|LoopTime)")),
    ("io_uring_enter JNI call, user side", re.compile(r"Native\.ioUringEnter|SubmissionQueue\.(submit|ioUringEnter)")),
    ("completion queue walk (CompletionQueue, IoUringIoHandler.handle)", re.compile(r"CompletionQueue|IoUringIoHandler\.(handle|processCompletions)")),
    ("task queue and scheduled tasks (runAllTasks, pollScheduledTask, ...)", re.compile(r"runAllTasks|ScheduledTask|fetchFromScheduledTaskQueue|pollTask|afterRunningAllTasks|delayNanos|deadlineNanos")),
]

def main(path, prefix="sluice-worker"):
    total = user = 0
    conn = 0
    loop = collections.Counter()
    loop_leaf = collections.Counter()
    for line in open(path):
        stack, n = line.rstrip().rsplit(" ", 1)
        frames = stack.split(";")
        if not frames[0].lstrip("[").startswith(prefix):
            continue
        n = int(n)
        total += n
        if any(f.endswith("_[k]") for f in frames):
            continue
        user += n
        if any(CONN.search(f) for f in frames):
            conn += n
            continue
        loop_leaf[frames[-1]] += n
        # the deepest matching part names the sample
        for name, rx in reversed(LOOP_PARTS):
            if any(rx.search(f) for f in frames):
                loop[name] += n
                break
        else:
            loop["other loop frames (SingleThreadIoEventLoop.run, IoUringIoHandler.run, ...)"] += n
    lp = sum(loop.values())
    print(f"{path}: {total} samples of {prefix}*, user {user} ({100 * user / total:.1f}%)")
    print(f"  per-connection work: {100 * conn / user:.1f}% of user; loop's own: {100 * lp / user:.1f}% of user")
    for k, v in loop.most_common():
        print(f"    {100 * v / user:5.2f}%  {k}")
    print("  loop's own, leaf frames:")
    for k, v in loop_leaf.most_common(12):
        print(f"    {100 * v / user:5.2f}%  {k}")

if __name__ == "__main__":
    main(*sys.argv[1:])
