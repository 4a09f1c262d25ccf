#!/usr/bin/env python3
"""Count the public items of a crate, as rustdoc's JSON output lists them.

usage: public_api.py [PACKAGE]   (default: oauth2-kit; needs a nightly toolchain)

Builds the crate's rustdoc JSON (all features) and prints the number of items whose visibility
is `pub` (modules, types, traits, functions, methods, fields, constants, macros, re-exports),
plus enum variants and trait members, which are public with their parent, by kind; then the
names the crate root re-exports. `docs/performance.md` has no use for it: issue closing notes
and `CHANGELOG.md` quote its counts.
"""
import collections
import json
import pathlib
import subprocess
import sys


def main() -> int:
    package = sys.argv[1] if len(sys.argv) > 1 else "oauth2-kit"
    subprocess.run(
        ["cargo", "+nightly", "rustdoc", "-q", "-p", package, "--all-features", "--lib", "--",
         "-Z", "unstable-options", "--output-format", "json"],
        check=True,
    )
    doc = json.loads((pathlib.Path("target/doc") / (package.replace("-", "_") + ".json")).read_text())
    index = doc["index"]
    # Members public with their parent: trait items and enum variants.
    members = set()
    for item in index.values():
        if item["crate_id"] == 0 and item["visibility"] == "public":
            inner = item["inner"]
            if "trait" in inner:
                members.update(inner["trait"]["items"])
            if "enum" in inner:
                members.update(inner["enum"]["variants"])
    kinds = collections.Counter()
    for id_, item in index.items():
        if item["crate_id"] != 0:
            continue
        kind = next(iter(item["inner"]))
        if kind != "impl" and (item["visibility"] == "public" or int(id_) in members):
            kinds[kind] += 1
    print(f"{package}: {sum(kinds.values())} public items")
    for kind, count in kinds.most_common():
        print(f"  {kind}: {count}")
    root = index[str(doc["root"])]
    names = []
    for child in root["inner"]["module"]["items"]:
        item = index.get(str(child))
        if item and "use" in item["inner"] and item["visibility"] == "public":
            names.append(item["inner"]["use"]["name"])
    print(f"root re-exports ({len(names)}): {', '.join(sorted(names))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
