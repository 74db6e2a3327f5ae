"""Every setting Kithkin reads is in DOCUMENTED_SETTINGS, and each of those is in the docs."""

from __future__ import annotations

import ast
from pathlib import Path

from kithkin import config

ROOT = Path(__file__).resolve().parents[2]
READERS = {"read", "read_bool", "read_int", "read_list", "_secret", "get", "getenv"}


def names_read_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            if name in READERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
        if (
            isinstance(node, ast.Subscript)
            and "environ" in ast.unparse(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            found.add(node.slice.value)
    return {name for name in found if name.isupper()}


def test_it_documents_every_setting_in_configuration_md() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in config.DOCUMENTED_SETTINGS if f"`{name}`" not in text]
    assert missing == []


def test_it_lists_every_setting_that_settings_py_reads() -> None:
    read = names_read_in(ROOT / "src" / "kithkin" / "settings.py")
    assert {"KITHKIN_ENV", "KITHKIN_SECRET_KEY", "DATABASE_URL"} <= read
    # DJANGO_SETTINGS_MODULE is Django's own, not a Kithkin setting.
    undocumented = read - set(config.DOCUMENTED_SETTINGS) - {"DJANGO_SETTINGS_MODULE"}
    assert undocumented == set()


def test_it_refuses_an_unknown_name_in_the_docs_check() -> None:
    # A stranger setting nobody documented is caught by the same check.
    assert "KITHKIN_NOT_A_SETTING" not in config.DOCUMENTED_SETTINGS
