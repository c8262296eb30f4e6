"""Typeset math for the HTML report, offline: matplotlib's mathtext drawn as SVG.

Each row of :meth:`evolve.analysis.math_view.ProgramMath.to_latex` (``\\hat{y} = ...``,
``\\mathbf{w} \\leftarrow ...``) is rendered by mathtext, matplotlib's own TeX subset, to an SVG
whose glyphs are paths, embedded as a ``data:`` image: no network, no TeX installation and no
JavaScript at view time. A row mathtext cannot parse is shown as its LaTeX source.
"""

from __future__ import annotations

import base64
import html
import io


def latex_rows(latex: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of an ``aligned`` block: ``("title", "Setup")`` or ``("math", tex)``."""
    rows = []
    for line in latex.splitlines():
        line = line.strip()
        if not line or line.startswith(("\\begin", "\\end")):
            continue
        if line.startswith("\\text{"):
            rows.append(("title", line[len("\\text{"):line.index("}")].rstrip(":")))
            continue
        tex = line.lstrip("&").strip()
        if tex.endswith("\\\\"):
            tex = tex[:-2].rstrip()
        if tex:
            rows.append(("math", tex))
    return rows


def mathtext_svg(tex: str, fontsize: float = 15.0) -> bytes | None:
    """SVG bytes of ``$tex$`` drawn by mathtext, or None when mathtext cannot parse it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.01, 0.01))
    fig.text(0, 0, f"${tex}$", fontsize=fontsize)
    buffer = io.BytesIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "evolve"}):
            fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.03,
                        transparent=True)
    except ValueError:  # mathtext's parse error
        return None
    return buffer.getvalue()


def math_html(latex: str) -> str:
    """An HTML block of the typeset rows, section titles as text."""
    parts = ['<div class="math">']
    for kind, text in latex_rows(latex):
        if kind == "title":
            parts.append(f'<div class="math-title">{html.escape(text)}</div>')
            continue
        svg = mathtext_svg(text)
        if svg is None:
            parts.append(f'<div class="math-row"><code>{html.escape(text)}</code></div>')
        else:
            data = base64.b64encode(svg).decode()
            parts.append(f'<div class="math-row"><img alt="{html.escape(text)}" '
                         f'src="data:image/svg+xml;base64,{data}"></div>')
    parts.append("</div>")
    return "\n".join(parts)


STYLE = (".math{margin:.5em 0 1em 1em}.math-title{font-weight:bold;margin-top:.4em}"
         ".math-row{margin:.15em 0 .15em 1.5em}.math-row img{vertical-align:middle}")
