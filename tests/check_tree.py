#!/usr/bin/env python3
"""The rb-tree's shape in --json-state against the kernel's.

usage: check_tree.py STATE.jsonl FDINFO.txt TRUTH.jsonl [--min-nodes N] [--trace TRACE.jsonl]
       check_tree.py --self-test

Takes the last state object: each instance of the workload (the truth's
pid) whose tree is exact and not stale must be a valid red-black tree
(one root, black; no red node with a red child; the same number of black
nodes on every path from the root to a missing child; every node reached
once from the root, each child's parent the node that names it) whose
in-order walk gives the fds in the order of its /proc/PID/fdinfo/EPFD tfd
lines (ep_show_fdinfo walks rb_first_cached/rb_next).  --min-nodes: at
least one instance so checked has that many nodes.  --trace: also the
last `snapshot` record of each such instance in a --json stream, whose
`tree` names nodes by their position in its `fds`.  --self-test: the
validator rejects broken trees (so that the check can fail).
"""
import json
import sys


def validate(tree):
    """None if tree (the --json-state form) is a valid red-black tree,
    else what is wrong.  Also returns the in-order fds."""
    nodes, root = tree["nodes"], tree["root"]
    n = len(nodes)
    if n == 0:
        return (None if root is None else "root of an empty tree"), []
    if root is None or not 0 <= root < n:
        return f"root {root} out of range", []
    if nodes[root]["color"] != "black":
        return f"root fd {nodes[root]['fd']} is red", []
    seen = [False] * n
    order = []
    heights = set()
    # iterative in-order walk: (node, black count above it incl. itself)
    stack, cur, blacks = [], root, 0
    parent_of = {root: None}
    for k in range(n):
        for side in ("left", "right"):
            c = nodes[k][side]
            if c is None:
                continue
            if not isinstance(c, int) or not 0 <= c < n:
                return f"fd {nodes[k]['fd']}: {side} {c} out of range", []
            if c in parent_of and parent_of[c] != k:
                return f"fd {nodes[c]['fd']} is the child of two nodes", []
            parent_of[c] = k
            if nodes[k]["color"] == "red" and nodes[c]["color"] == "red":
                return f"red fd {nodes[k]['fd']} has a red {side} child fd {nodes[c]['fd']}", []
    depth_black = {}
    while stack or cur is not None:
        while cur is not None:
            if seen[cur]:
                return f"fd {nodes[cur]['fd']} reached twice (a cycle)", []
            seen[cur] = True
            p = parent_of.get(cur)
            depth_black[cur] = (depth_black[p] if p is not None else 0) + \
                (nodes[cur]["color"] == "black")
            for side in ("left", "right"):
                if nodes[cur][side] is None:
                    heights.add(depth_black[cur])
            stack.append(cur)
            cur = nodes[cur]["left"]
        cur = stack.pop()
        order.append(cur)
        cur = nodes[cur]["right"]
    if not all(seen):
        miss = [nodes[i]["fd"] for i in range(n) if not seen[i]]
        return f"nodes not reached from the root: fds {miss}", []
    if len(heights) != 1:
        return f"black heights differ: {sorted(heights)}", []
    # positions are the tree order: the in-order walk visits 0, 1, 2, ...
    if order != list(range(n)):
        return "the in-order walk is not the nodes' order", []
    return None, [nodes[i]["fd"] for i in order]


def self_test():
    def node(fd, color, l=None, r=None):
        return {"fd": fd, "color": color, "left": l, "right": r}
    good = {"root": 1, "nodes": [node(3, "red"), node(5, "black", 0, 2), node(8, "red")]}
    err, fds = validate(good)
    assert err is None and fds == [3, 5, 8], (err, fds)
    bad = {
        "red root": {"root": 1, "nodes": [node(3, "red"), node(5, "red", 0, 2), node(8, "red")]},
        "red-red": {"root": 0, "nodes": [node(1, "black", None, 1), node(2, "red", None, 2),
                                         node(3, "red")]},
        "black height": {"root": 1, "nodes": [node(3, "black"), node(5, "black", 0, 2),
                                              node(8, "red")]},
        "unreached": {"root": 1, "nodes": [node(3, "red"), node(5, "black", 0, None),
                                           node(8, "red")]},
        "cycle": {"root": 0, "nodes": [node(1, "black", None, 1), node(2, "black", None, 0)]},
        "order": {"root": 1, "nodes": [node(8, "red"), node(5, "black", 2, 0), node(3, "red")]},
        "range": {"root": 0, "nodes": [node(1, "black", 7, None)]},
    }
    for what, t in bad.items():
        err, _ = validate(t)
        assert err is not None, f"the validator took a broken tree: {what}"
    print(f"validator: 1 valid tree taken, {len(bad)} broken ones refused")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    state, fdinfo, truth = sys.argv[1:4]
    min_nodes = int(sys.argv[sys.argv.index("--min-nodes") + 1]) \
        if "--min-nodes" in sys.argv else 0
    pid = None
    for line in open(truth):
        e = json.loads(line)
        if e.get("t") == "scenario":
            pid = e["pid"]
            break
    kernel = {}
    for line in open(fdinfo):
        epfd, _, rest = line.partition(":")
        kernel[int(epfd)] = [int(x) for x in rest.split()]
    last = None
    for line in open(state):
        o = json.loads(line)
        if o.get("type") == "state":
            last = o
    if last is None:
        print("no state object")
        return 1
    checked, biggest, problems = 0, 0, []
    for inst in last["instances"]:
        if inst["pid"] != pid or inst["closed"] or inst["epfd"] not in kernel:
            continue
        t = inst.get("tree")
        if t is None or not t["exact"] or t["stale"]:
            continue
        err, fds = validate(t)
        if err:
            problems.append(f"epfd {inst['epfd']}: {err}")
            continue
        if fds != kernel[inst["epfd"]]:
            problems.append(f"epfd {inst['epfd']}: in-order {fds}, fdinfo "
                            f"{kernel[inst['epfd']]}")
            continue
        checked += 1
        biggest = max(biggest, len(fds))
    if "--trace" in sys.argv:
        snaps = {}
        for line in open(sys.argv[sys.argv.index("--trace") + 1]):
            e = json.loads(line)
            if e.get("type") == "snapshot" and e["pid"] == pid:
                snaps[e["epfd"]] = e
        traced = 0
        for epfd, e in snaps.items():
            t = e.get("tree")
            if epfd not in kernel or t is None or "items_moved" in e["inexact"] or \
                    "items_cut" in e["inexact"]:
                continue
            nodes = [dict(n, fd=f["fd"]) for n, f in zip(t["nodes"], e["fds"])]
            err, fds = validate({"root": t["root"], "nodes": nodes})
            if err:
                problems.append(f"--json snapshot of epfd {epfd}: {err}")
            elif fds != kernel[epfd]:
                problems.append(f"--json snapshot of epfd {epfd}: in-order {fds}, fdinfo "
                                f"{kernel[epfd]}")
            else:
                traced += 1
        if not traced:
            problems.append("no --json snapshot with an exact tree")
    if problems:
        print("\n".join(problems))
        return 1
    if min_nodes and biggest < min_nodes:
        print(f"no exact, fresh tree of {min_nodes} nodes or more (largest {biggest}, "
              f"{checked} checked)")
        return 1
    also = f", and {traced} in --json snapshots" if "--trace" in sys.argv else ""
    print(f"{checked} trees valid, in fdinfo's order (largest {biggest} nodes){also}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
