"""ANSI syntax highlighting of program text and math (only when writing to a terminal)."""

from __future__ import annotations

import re

_RESET = "\033[0m"
_STYLES = {
    "comment": "\033[90m",
    "keyword": "\033[1;34m",
    "scalar": "\033[36m",
    "vector": "\033[32m",
    "matrix": "\033[35m",
    "number": "\033[33m",
    "func": "\033[34m",
}
_TOKENS = re.compile(
    r"(?P<comment>#.*$)|(?P<keyword>\bdef\b|^(?:Setup|Predict|Learn):)"
    r"|(?P<scalar>\bs\d+\b|ŷ|\by\b)|(?P<vector>\bv\d+\b|\bx\b|\bw\w*)|(?P<matrix>\bm\d+\b|\bW\w*)"
    r"|(?P<number>(?<![\w.])[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?)|(?P<func>\b[a-z_]+(?=\())",
    re.MULTILINE,
)


def highlight(text: str) -> str:
    def paint(match: re.Match[str]) -> str:
        return f"{_STYLES[match.lastgroup]}{match.group(0)}{_RESET}"

    return _TOKENS.sub(paint, text)
