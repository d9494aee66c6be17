"""A RAG badge: colour AND a symbol and words, so it never relies on colour alone."""

from __future__ import annotations

from dash import html

from dashboard.theme import RAG, RagStyle


def rag_style(rag: str | None) -> RagStyle:
    """The style of a RAG status; 'none' for a missing or unknown one."""
    return RAG.get(rag if isinstance(rag, str) else "none", RAG["none"])


def rag_text(rag: str | None) -> str:
    """'✔ On target', '▲ Near target', '✖ Off target' or '– No target'."""
    style = rag_style(rag)
    return f"{style.symbol} {style.words}"


def rag_badge(rag: str | None, **props) -> html.Span:
    """The badge: words and symbol on the status colour (contrast checked in the tests)."""
    style = rag_style(rag)
    return html.Span(rag_text(rag), className=f"rag rag-{style.status}",
                     style={"backgroundColor": style.background, "color": style.text}, **props)
