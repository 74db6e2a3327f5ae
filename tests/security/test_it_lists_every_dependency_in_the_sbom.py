"""The CycloneDX SBOM of the locked runtime dependencies is generated and complete (CI's
"CycloneDX SBOM" step runs the same generator and scripts/check_sbom.py)."""

# ruff: noqa: S603 (a subprocess of this interpreter, with list arguments)
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "base.lock"


def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_sbom", ROOT / "scripts" / "check_sbom.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_generates_an_sbom_of_every_locked_package(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    command = [sys.executable, "-W", "ignore::UserWarning", "-m", "cyclonedx_py", "requirements"]
    command += [str(LOCK), "--pyproject", str(ROOT / "pyproject.toml"), "--output-reproducible"]
    command += ["--output-format", "JSON", "--output-file", str(out)]
    generated = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    check = checker()
    assert check.problems(out.read_text(encoding="utf-8"), LOCK.read_text(encoding="utf-8")) == []
    sbom = json.loads(out.read_text(encoding="utf-8"))
    assert sbom["metadata"]["component"]["name"] == "kithkin"
    names = {c["name"].lower() for c in sbom["components"]}
    assert {"django", "cryptography", "django-otp"} <= names
    assert "pytest" not in names, "development tools are not runtime dependencies"


def test_it_refuses_an_sbom_that_misses_or_misstates_a_package() -> None:
    check = checker()
    lock = LOCK.read_text(encoding="utf-8")
    pins = check.locked(lock)
    assert pins["django"][0] == "5.2.19" and pins["django"][1]

    def component(name: str, version: str, digest: str) -> dict[str, object]:
        return {
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{name}@{version}",
            "hashes": [{"alg": "SHA-256", "content": digest}],
        }

    good = [component(n, v, next(iter(h))) for n, (v, h) in pins.items()]
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": good}
    assert check.problems(json.dumps(sbom), lock) == []
    # A stranger's SBOM: one package missing, one at another version, one with a foreign hash.
    wrong = [c for c in good if c["name"] != "django"]
    bad = component("networkx", "0.1", "0" * 64)
    wrong = [bad if c["name"] == "networkx" else c for c in wrong]
    sbom["components"] = wrong
    found = "\n".join(check.problems(json.dumps(sbom), lock))
    assert "django==5.2.19 is locked but missing" in found
    assert "networkx: SBOM says '0.1'" in found
    assert "networkx: none of the locked sha256 hashes" in found
    assert check.problems("not json", lock)[0].startswith("the SBOM is not valid JSON")
    assert check.problems(json.dumps({"bomFormat": "SPDX"}), lock)
