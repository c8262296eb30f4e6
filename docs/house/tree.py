"""The package tree with line counts (the architecture page's table): ``python docs/house/tree.py``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    for top in ("primitives", "problems", "evolve"):
        packages = sorted({p.parent for p in (ROOT / top).rglob("*.py")})
        for package in packages:
            modules = sorted(m for m in package.glob("*.py") if m.name != "_version.py")
            lines = sum(len(m.read_text().splitlines()) for m in modules)
            names = ", ".join(f"{m.stem} {len(m.read_text().splitlines())}" for m in modules)
            print(f"| `{package.relative_to(ROOT)}/` | {lines:,} | {names} |")


if __name__ == "__main__":
    main()
