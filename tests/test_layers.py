"""The layers of the product package, read from the imports of its source (issue 13).

    base (settings, catalog, production, channels, supportinfo)  <  language  <  triage  <  dialogue | handoff  <  rasa | web | line

A module may import from its own layer and from lower ones. dialogue and handoff are side by side and
do not import each other (the dialogue returns effects; the Rasa action carries them out with the
store); rasa, web and line likewise. The LINE adapter (bot.line) runs in its own environment
without Rasa: it and what it imports from the bot use only the standard library and that
environment's packages (requirements-line.in). Developer tools (tools/) and tests may import anything; the product
imports nothing from them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bot"
RANK = {"base": 0, "language": 1, "triage": 2, "dialogue": 3, "handoff": 3, "rasa": 4, "web": 4, "line": 4}
BASE = {"settings", "catalog", "production", "channels", "supportinfo", "__init__"}
# What the LINE adapter's environment has besides the standard library (requirements-line.in).
LINE_PACKAGES = {"linebot", "aiohttp", "yaml", "cryptography", "bot"}
MAX_LINES = 400


def layer_of(module: str) -> str:
    """'bot.triage.assess' -> 'triage'; 'bot.settings' -> 'base'."""
    parts = module.split(".")
    if parts[0] != "bot":
        return "outside"
    return "base" if len(parts) == 1 or parts[1] in BASE else parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path) -> list:
    """Every module that the file imports, absolute, with the line of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from bot import triage` imports the module bot.triage; `from bot.triage import assess` a name
                candidate = f"{base}.{alias.name}"
                is_module = (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() or (ROOT / candidate.replace(".", "/")).is_dir()
                found.append((candidate if is_module else base, node.lineno))
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_known_layer():
    assert SOURCES
    unknown = sorted({layer_of(module_name(p)) for p in SOURCES} - set(RANK))
    assert not unknown, unknown


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_no_import_from_a_higher_layer_or_a_sibling(path):
    mine = layer_of(module_name(path))
    wrong = []
    for target, line in imported(path):
        if target.split(".")[0] == "tools":
            wrong.append(f"line {line}: {target} (developer tools)")
            continue
        theirs = layer_of(target)
        if theirs == "outside" or theirs == mine:
            continue
        if RANK[theirs] >= RANK[mine]:
            wrong.append(f"line {line}: {target} ({theirs} is not below {mine})")
    assert not wrong, wrong


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_no_module_is_longer_than_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, lines


def test_the_rule_itself_catches_a_wrong_import(tmp_path):
    """The reader of imports is not blind: a triage module importing the dialogue is caught."""
    fake = PACKAGE / "triage" / "_layer_probe.py"
    fake.write_text("from bot.dialogue import plan\nfrom bot import handoff\nfrom bot.language import japanese\n", encoding="utf-8")
    try:
        targets = [(t, layer_of(t)) for t, _ in imported(fake)]
    finally:
        fake.unlink()
    assert ("bot.dialogue", "dialogue") in targets or ("bot.dialogue.plan", "dialogue") in targets
    assert ("bot.handoff", "handoff") in targets
    assert all(RANK[layer] <= RANK["triage"] for t, layer in targets if layer == "language")


def test_the_line_adapter_needs_nothing_of_the_bots_environment():
    """bot.line, and every bot module it reaches, import only the standard library and .venv-line's packages."""
    import sys

    todo = [p for p in (PACKAGE / "line").glob("*.py")]
    seen, wrong = set(), []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for target, line in imported(path):
            top = target.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top not in LINE_PACKAGES:
                wrong.append(f"{path.relative_to(ROOT)} line {line}: {target}")
            elif top == "bot":
                module = ROOT / target.replace(".", "/")
                todo += [m for m in (module.with_suffix(".py"), module / "__init__.py") if m.exists()]
    assert (PACKAGE / "settings.py") in seen and (PACKAGE / "catalog.py") in seen
    assert not wrong, wrong
