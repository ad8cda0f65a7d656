"""The rules table of docs/validation.md, generated from RULES.

    uv run bamara shell -c "from bamara.records.validation import docs; docs.main()"

rewrites the table between the markers of docs/validation.md.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .rules import ANY_ITEM, CATEGORIES, RULES

DOC = Path(__file__).resolve().parents[3] / "docs" / "validation.md"
_TABLE = re.compile(r"(<!-- rules:start -->\n).*(<!-- rules:end -->)", re.DOTALL)
_LEVELS = {"error": "erreur", "warning": "avertissement"}


def rules_markdown() -> str:
    """One table per category: rule id, level, SDM items, French description."""
    lines: list[str] = []
    for category, title in CATEGORIES.items():
        rules = [rule for rule in RULES if rule.category == category]
        if not rules:
            continue
        lines += [
            f"### {title}",
            "",
            "| règle | niveau | items SDM-MR | description |",
            "|---|---|---|---|",
        ]
        for rule in rules:
            items = (
                "tout item"
                if rule.items == (ANY_ITEM,)
                else ", ".join(f"`{item}`" for item in rule.items)
            )
            lines.append(
                f"| `{rule.id}` | {_LEVELS[rule.level]} | {items} | {rule.description_fr} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    if not _TABLE.search(text):
        print(
            f"{DOC}: markers <!-- rules:start --> / <!-- rules:end --> not found", file=sys.stderr
        )
        return 1
    DOC.write_text(
        _TABLE.sub(lambda match: match.group(1) + rules_markdown() + match.group(2), text),
        encoding="utf-8",
    )
    print(f"{DOC}: {len(RULES)} rules")
    return 0
