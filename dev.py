#!/usr/bin/env python3
"""Kithkin's two commands, needing nothing but Python 3.11 and the package registries.

    python3 dev.py demo [kithkin demo options]   # set up, load the demo practice, serve it
    python3 dev.py test [pytest options]         # run the whole test suite
    python3 dev.py setup                         # only create .venv and install (used by CI)

The virtual environment lives in .venv; dependencies come from the hash-locked files in
requirements/, and are reinstalled only when a lock file changes. Standard library only.
"""

# ruff: noqa: S603, S606 (runs fixed commands: pip, pytest, kithkin, with list arguments)
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
LOCKS = {"demo": ROOT / "requirements" / "base.lock", "test": ROOT / "requirements" / "dev.lock"}


def say(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[dev.py] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(part) for part in command], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        fail(f"this step failed (exit code {result.returncode}): {' '.join(map(str, command))}")


def check_python() -> None:
    if sys.version_info[:2] != (3, 11):
        fail(
            f"Kithkin needs Python 3.11; this is {sys.version.split()[0]}. "
            "Run this file with a Python 3.11 interpreter, e.g. `python3.11 dev.py ...`."
        )


def fingerprint(lock: Path) -> str:
    digest = hashlib.sha256()
    for path in (lock, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def stamp_for(lock: Path) -> Path:
    return VENV / f".kithkin-installed-{lock.stem}"


def is_current(lock: Path) -> bool:
    stamp = stamp_for(lock)
    return stamp.exists() and stamp.read_text(encoding="utf-8").strip() == fingerprint(lock)


def ensure_environment(purpose: str) -> None:
    """Create .venv if needed and install the locked dependencies for ``purpose``."""
    check_python()
    if not PYTHON.exists():
        if VENV.exists():
            say(f"{VENV} is incomplete; recreating it")
            shutil.rmtree(VENV)
        say(f"Creating the virtual environment in {VENV} ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock = LOCKS[purpose]
    # The test lock is a superset of the demo lock, so either being current will do for the demo.
    if is_current(lock) or (purpose == "demo" and is_current(LOCKS["test"])):
        say(f"Dependencies are up to date ({lock.relative_to(ROOT)}).")
        return
    say(f"Installing dependencies from {lock.relative_to(ROOT)} (hash-checked) ...")
    run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--require-hashes",
        "--progress-bar", "off", "-r", lock)  # fmt: skip
    say("Installing Kithkin itself (editable) ...")
    run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
        "--no-deps", "-e", ROOT)  # fmt: skip
    stamp_for(lock).write_text(fingerprint(lock) + "\n", encoding="utf-8")
    say("Dependencies installed.")


def demo(arguments: list[str]) -> None:
    ensure_environment("demo")
    say("Starting the demo (kithkin demo) ...")
    command = [str(PYTHON), "-m", "kithkin.cli", "demo", *arguments]
    os.chdir(ROOT)
    # exec: Ctrl+C and signals go straight to the server.
    os.execv(command[0], command)


def test(arguments: list[str]) -> int:
    ensure_environment("test")
    env = {**os.environ, "KITHKIN_ENV": "test"}
    pytest = [str(PYTHON), "-m", "pytest"]
    if arguments:
        say("Running: pytest " + " ".join(arguments))
        return subprocess.run([*pytest, *arguments], cwd=ROOT, env=env, check=False).returncode
    # Two passes: the fast tests spread over every core, then the browser tests in one process
    # (each drives its own headless Chromium against a live server, and parallel browsers on a
    # small machine only slow each other down).
    say("Running the test suite (all cores), browser tests after ...")
    first = subprocess.run(
        [*pytest, "-n", "auto", "-m", "not browser"], cwd=ROOT, env=env, check=False
    ).returncode
    say("Running the browser tests ...")
    second = subprocess.run([*pytest, "-m", "browser"], cwd=ROOT, env=env, check=False).returncode
    if second == 5:  # pytest: no tests collected
        second = 0
    outcome = "passed" if first == second == 0 else "FAILED"
    say(f"Test suite {outcome} (main suite exit {first}, browser tests exit {second}).")
    return first or second


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    command, arguments = argv[0], argv[1:]
    if command == "demo":
        demo(arguments)
        return 0
    if command == "test":
        return test(arguments)
    if command == "setup":
        ensure_environment("test")
        return 0
    fail(f"unknown command {command!r}; use `demo`, `test` or `setup`.")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
