#!/usr/bin/env python3
"""Checks the workspace's `rust-version` against the locked dependency set.

    scripts/check-msrv.py

Reads `rust-version` from the workspace Cargo.toml and, for every registry package in
Cargo.lock, the `rust-version` its own manifest declares (from cargo's registry sources, so run
it after a build has fetched them). Fails, naming the packages, when one needs a newer Rust
than the workspace says; prints the highest requirement either way. Only one toolchain can be
installed here, so this (with clippy's `incompatible_msrv` lint, which checks our own code's
use of newer standard-library APIs against the same field) is how the MSRV is kept honest.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def version(text):
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    manifest = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    ours = re.search(r'^rust-version\s*=\s*"([^"]+)"', manifest, re.M)
    if not ours:
        sys.exit("check-msrv: no rust-version in the workspace Cargo.toml")
    msrv = version(ours.group(1))
    lock = open(os.path.join(ROOT, "Cargo.lock"), encoding="utf-8").read()
    packages = re.findall(
        r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry', lock
    )
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    sources = glob.glob(os.path.join(cargo_home, "registry", "src", "*"))
    needs, unread = [], []
    for name, ver in packages:
        for src in sources:
            path = os.path.join(src, f"{name}-{ver}", "Cargo.toml")
            if os.path.exists(path):
                m = re.search(r'^rust-version\s*=\s*"([^"]+)"', open(path, encoding="utf-8").read(), re.M)
                if m:
                    needs.append((version(m.group(1)), m.group(1), f"{name} {ver}"))
                break
        else:
            unread.append(f"{name} {ver}")
    if unread:
        print(f"check-msrv: {len(unread)} locked packages have no source here (not built?): "
              + ", ".join(unread[:5]))
    needs.sort(reverse=True)
    top = needs[0] if needs else ((0, 0, 0), "-", "none")
    over = [n for n in needs if n[0] > msrv]
    print(f"check-msrv: rust-version {ours.group(1)}; the locked dependencies need at most "
          f"{top[1]} ({top[2]}); {len(needs)} declare one")
    if over:
        sys.exit("check-msrv: these need a newer Rust than the workspace's rust-version: "
                 + ", ".join(f"{n[2]} ({n[1]})" for n in over))


if __name__ == "__main__":
    main()
