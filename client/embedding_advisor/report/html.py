"""The report as one self-contained HTML page: the Markdown rendered, plots inlined as PNG data
URIs, styles inline; nothing is fetched."""

from __future__ import annotations

import base64
from html import escape

from ..v1 import advisor_pb2 as pb
from .markdown import markdown
from .plots import figures

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#1d2433;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #dde;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #d5d9e2;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f1f4f9}tr:nth-child(even) td{background:#fafbfd}
img{max-width:100%;border:1px solid #e5e8ef;margin:.5em 0}
blockquote{margin:.8em 0;padding:.6em 1em;background:#eef6ee;border-left:4px solid #2a9d8f}
code{background:#f1f4f9;padding:0 .2em}
"""


def html(rec: pb.Recommendation, title: str = "") -> str:
    """One self-contained HTML page: the Markdown rendered, plots inlined as data URIs."""
    import markdown as md

    images = {
        name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for name, png in figures(rec).items()
    }
    body = md.markdown(markdown(rec, images, title), extensions=["tables"])
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Embedding advice{': ' + escape(title) if title else ''}</title>"
        f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
