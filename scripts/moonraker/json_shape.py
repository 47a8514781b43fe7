#!/usr/bin/env python3
"""Compare the JSON *shape* of a live Moonraker answer with a recorded sample.

    json_shape.py SAMPLE.json LIVE.json [--ignore PATH ...]

Shape = the tree of object keys plus each leaf's kind (string, number, bool,
null, list). Integers and floats count as the same kind ("number"); a null on
one side and a value on the other is reported as a note, not a difference
(e.g. print_stats.info.total_layer). List elements are compared against the
sample's first element. Exit status 0 when the shapes agree, 1 otherwise.
Paths given with --ignore (dotted, e.g. result.warnings) are skipped.
"""
import json
import sys


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def compare(sample, live, path, ignore, diffs, notes):
    if path in ignore:
        return
    ks, kl = kind(sample), kind(live)
    if ks != kl:
        if "null" in (ks, kl):
            notes.append("%s: sample %s, live %s" % (path or "<root>", ks, kl))
        else:
            diffs.append("%s: sample %s, live %s" % (path or "<root>", ks, kl))
        return
    if ks == "object":
        for k in sorted(set(sample) | set(live)):
            sub = "%s.%s" % (path, k) if path else k
            if sub in ignore:
                continue
            if k not in live:
                diffs.append("%s: missing in live" % sub)
            elif k not in sample:
                diffs.append("%s: extra in live" % sub)
            else:
                compare(sample[k], live[k], sub, ignore, diffs, notes)
    elif ks == "list" and sample and live:
        for i, item in enumerate(live):
            compare(sample[0], item, "%s[%d]" % (path, i), ignore, diffs, notes)


def main(argv):
    args = argv[1:]
    ignore = set()
    while "--ignore" in args:
        i = args.index("--ignore")
        ignore.add(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(args[0]) as f:
        sample = json.load(f)
    with open(args[1]) as f:
        live = json.load(f)
    diffs, notes = [], []
    compare(sample, live, "", ignore, diffs, notes)
    for n in notes:
        print("  note: " + n)
    for d in diffs:
        print("  DIFF: " + d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
