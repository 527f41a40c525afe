#!/usr/bin/env python3
"""Renders collapsed stacks (async-profiler `collapsed` output, one "frame;frame;frame count" per line) as a
static SVG flame graph, so that a profile can be read in the README, on GitHub or in any browser without
JavaScript. async-profiler itself writes interactive HTML only; Brendan Gregg's flamegraph.pl is not packaged
in Debian.

    flame_svg.py profile.collapsed --title "http_small, Sluice worker" [--thread sluice-worker] > flame.svg

--thread keeps the stacks whose first frame (async-profiler's `threads` option puts the thread name there)
contains the text, and drops that frame. Frames narrower than --min-percent of the total are left out, with
their samples still counted in their parents.
"""
import argparse
import html
import re
import sys

WIDTH = 1200
FRAME_HEIGHT = 16
CHAR_WIDTH = 6.6
TOP = 44


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.children = {}

    def child(self, name):
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(name)
        return node


def read_stacks(lines, thread):
    root = Node("all")
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if thread is not None:
            if thread not in frames[0]:
                continue
            frames = frames[1:]
        n = int(count)
        root.count += n
        node = root
        for frame in frames:
            node = node.child(frame)
            node.count += n
    return root


def colour(name):
    """Kernel red, native orange, JVM internals grey, Sluice blue, Netty green, the rest of Java teal."""
    if name.endswith("_[k]") or "[k]" in name:
        return "#e06666"
    plain = clean(name)
    if plain.startswith("io/sluice") or plain.startswith("io.sluice"):
        return "#6fa8dc"
    if plain.startswith("io/netty") or plain.startswith("io.netty"):
        return "#93c47d"
    if "/" in plain or re.match(r"^[a-z]+\.[a-z]", plain):
        return "#76c7c0"
    if "::" in plain or plain.startswith("[") or plain.startswith("Interpreter"):
        return "#bbbbbb"
    return "#f6b26b"


def clean(name):
    return re.sub(r"_\[[a-z0-9]\]$", "", name)


def depth_of(node, min_count):
    deepest = 0
    for c in node.children.values():
        if c.count >= min_count:
            deepest = max(deepest, 1 + depth_of(c, min_count))
    return deepest


def render(root, title, min_percent):
    min_count = max(1, root.count * min_percent / 100.0)
    depth = depth_of(root, min_count) + 1
    height = TOP + depth * FRAME_HEIGHT + 24
    scale = (WIDTH - 20) / max(root.count, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="11">',
        f'<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
        f'<text x="10" y="36" fill="#555">{root.count} samples; frames under {min_percent}% left out; '
        f'blue Sluice, green Netty, teal other Java, orange native, red kernel</text>',
    ]

    def draw(node, x, level):
        y = height - 24 - (level + 1) * FRAME_HEIGHT
        w = node.count * scale
        name = clean(node.name)
        share = 100.0 * node.count / max(root.count, 1)
        label = f"{name} ({node.count} samples, {share:.2f}%)"
        out.append(f'<g><title>{html.escape(label)}</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{max(w - 0.5, 0.1):.1f}" height="{FRAME_HEIGHT - 1}" '
                   f'fill="{colour(node.name)}" rx="1"/>')
        fits = int((w - 4) / CHAR_WIDTH)
        if fits >= 3:
            short = short_name(name)
            text = short if len(short) <= fits else short[:fits - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + FRAME_HEIGHT - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for c in sorted(node.children.values(), key=lambda n: n.name):
            if c.count >= min_count:
                draw(c, cx, level + 1)
            cx += c.count * scale

    draw(root, 10, 0)
    out.append("</svg>")
    return "\n".join(out)


def short_name(name):
    """io/netty/channel/DefaultChannelPipeline.fireChannelRead -> DefaultChannelPipeline.fireChannelRead"""
    name = name.replace("/", ".")
    parts = name.split("(")[0].split(".")
    if len(parts) >= 2:
        return ".".join(parts[-2:])
    return name


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("collapsed", help="collapsed stacks file, or - for stdin")
    p.add_argument("--title", default="flame graph")
    p.add_argument("--thread", help="keep stacks whose first frame (the thread) contains this text")
    p.add_argument("--min-percent", type=float, default=0.1)
    a = p.parse_args()
    src = sys.stdin if a.collapsed == "-" else open(a.collapsed, encoding="utf-8", errors="replace")
    root = read_stacks(src, a.thread)
    if root.count == 0:
        sys.exit("no samples" + (f" for thread '{a.thread}'" if a.thread else ""))
    sys.stdout.write(render(root, a.title, a.min_percent))


if __name__ == "__main__":
    main()
