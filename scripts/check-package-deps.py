#!/usr/bin/env python3
"""Checks that Package.swift declares exactly the modules each target imports: no missing dependency (which only
builds by accident, through another target) and no unused one (which slows every build and hides the real graph).

Usage: scripts/check-package-deps.py   (from anywhere; exits 1 and names each difference)
"""
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the platform, never declared in Package.swift.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML", "Dispatch", "Glibc", "Musl",
    "Darwin", "Testing", "XCTest", "Synchronization", "_Concurrency", "Swift",
}
IMPORT = re.compile(r"^(?:@testable\s+|@preconcurrency\s+|@_spi\([^)]*\)\s+)*import\s+(?:(?:struct|class|enum|func|protocol)\s+)?(\w+)")


def imports(text: str) -> set:
    """The modules a Swift file imports: its leading import lines (text in string literals further down, such as an
    embedded script, is not Swift)."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        match = IMPORT.match(line)
        if match:
            found.add(match.group(1))
        elif line and not line.startswith(("//", "#if", "#else", "#elseif", "#endif", "/*", "*")):
            break
    return found


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    manifest = json.loads(subprocess.run(
        ["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout)
    problems = []
    for target in manifest["targets"]:
        name = target["name"]
        folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
        declared = set()
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            declared.add(value[0])
        imported = set()
        for directory, _, files in os.walk(os.path.join(root, folder)):
            for file in files:
                if file.endswith(".swift"):
                    with open(os.path.join(directory, file), encoding="utf-8") as source:
                        imported.update(imports(source.read()))
        imported -= TOOLCHAIN | {name}
        for module in sorted(imported - declared):
            problems.append(f"{name}: imports {module} but does not declare it")
        for module in sorted(declared - imported):
            problems.append(f"{name}: declares {module} but never imports it")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
