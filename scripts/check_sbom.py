"""Check a CycloneDX SBOM against the locked runtime dependencies.

    python scripts/check_sbom.py build/sbom.cdx.json requirements/base.lock

Exit 0 when the SBOM is valid CycloneDX JSON (spec 1.4 or newer) and lists every package pinned in
the lock file with exactly its pinned version and at least one of its pinned hashes; otherwise
print each problem and exit 1. CI runs it after ``cyclonedx-py requirements`` (see .ci/run).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SUPPORTED_SPECS = {"1.4", "1.5", "1.6", "1.7"}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:(?P<digest>[0-9a-f]{64})")


def canonical(name: str) -> str:
    """PEP 503 normalisation: ``Django`` and ``django``, ``fhir.resources`` and ``fhir-resources``
    name the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock_text: str) -> dict[str, tuple[str, set[str]]]:
    """Package → (version, sha256 hashes) for every pin in a pip-compile lock file."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current = ""
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match:
            current = canonical(match["name"])
            pins[current] = (match["version"], set())
        elif not line.startswith((" ", "\t")):
            current = ""  # a comment or blank line at the margin ends the pin's block
        if current:
            pins[current][1].update(h["digest"] for h in _HASH.finditer(line))
    return pins


def problems(sbom_text: str, lock_text: str) -> list[str]:
    """Everything wrong with the SBOM, in words; empty when it is complete and correct."""
    try:
        sbom = json.loads(sbom_text)
    except json.JSONDecodeError as error:
        return [f"the SBOM is not valid JSON ({error})"]
    if not isinstance(sbom, dict) or sbom.get("bomFormat") != "CycloneDX":
        return ['the SBOM does not say "bomFormat": "CycloneDX"']
    found: list[str] = []
    spec = sbom.get("specVersion")
    if spec not in SUPPORTED_SPECS:
        found.append(f"unexpected CycloneDX specVersion {spec!r} (want one of {SUPPORTED_SPECS})")
    listed: dict[str, dict[str, object]] = {}
    for component in sbom.get("components") or []:
        if isinstance(component, dict) and isinstance(component.get("name"), str):
            listed[canonical(component["name"])] = component
    pins = locked(lock_text)
    if not pins:
        found.append("the lock file pins no packages")
    for name, (version, hashes) in sorted(pins.items()):
        component = listed.get(name)
        if component is None:
            found.append(f"{name}=={version} is locked but missing from the SBOM")
            continue
        if component.get("version") != version:
            found.append(f"{name}: SBOM says {component.get('version')!r}, the lock says {version}")
        purl = component.get("purl")
        if not isinstance(purl, str) or not purl.startswith(f"pkg:pypi/{name}@{version}"):
            found.append(f"{name}: package URL {purl!r} does not name pkg:pypi/{name}@{version}")
        if hashes and not hashes & _component_hashes(component):
            found.append(f"{name}: none of the locked sha256 hashes is in the SBOM")
    return found


def _component_hashes(component: dict[str, object]) -> set[str]:
    digests: set[str] = set()
    sources = [component, *(component.get("externalReferences") or [])]  # type: ignore[misc]
    for source in sources:
        if isinstance(source, dict):
            for entry in source.get("hashes") or []:
                if isinstance(entry, dict) and entry.get("alg") == "SHA-256":
                    digests.add(str(entry.get("content", "")))
    return digests


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sbom_path, lock_path = (Path(arg) for arg in argv)
    found = problems(sbom_path.read_text(encoding="utf-8"), lock_path.read_text(encoding="utf-8"))
    for problem in found:
        print(f"SBOM problem: {problem}", file=sys.stderr)
    if found:
        return 1
    count = len(locked(lock_path.read_text(encoding="utf-8")))
    print(f"{sbom_path}: CycloneDX SBOM lists all {count} locked runtime packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
