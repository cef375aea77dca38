"""The Redis side keeps its Lua in `.lua` files that name no key (the keys come from services/common/names.py as
KEYS), and its adapters read no settings (the composition root hands them their values)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS = ROOT / "services" / "common" / "redis"


def test_no_lua_file_writes_a_key_name():
    lua = sorted(ROOT.joinpath("services").rglob("*.lua"))
    assert lua, "the scripts are .lua files"
    named = [str(p.relative_to(ROOT)) for p in lua if re.search(r"""['"]isf:""", p.read_text())]
    assert named == []


def test_no_python_file_of_the_services_holds_lua():
    holding = [
        str(p.relative_to(ROOT)) for p in ROOT.joinpath("services").rglob("*.py") if "redis.call(" in p.read_text()
    ]
    assert holding == []


def test_the_redis_adapters_read_no_settings():
    importing = []
    for path in REDIS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "config":
                importing.append(path.name)
    assert importing == []
