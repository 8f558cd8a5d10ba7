"""Profiles as Markdown and HTML.

Every piece of text in a profile may come from an evidence file someone else wrote, so the HTML
escapes all of it (``html.escape`` with quotes), links only ``http(s)`` addresses, and the
Markdown escapes the characters that would turn text into markup or raw HTML.
"""

from __future__ import annotations

import html
import re

from rirport.profiles.model import Profile

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md(text: str) -> str:
    """Text safe inside Markdown: markup characters backslash-escaped, so ``<script>`` and
    ``[x](javascript:…)`` print as text."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown(profile: Profile) -> str:
    score, grade, label = profile.rating
    out = [
        f"# {md(profile.name)}",
        "",
        f"*{md(profile.type)}* · `{md(profile.id)}` · as of {profile.as_of.isoformat()}",
        "",
        f"**Confidence: {score:.2f} · {grade} · {md(label)}**",
        "",
    ]
    for section in profile.sections:
        out += [f"## {md(section.title)}", f"<!-- tier: {section.tier} -->", ""]
        if isinstance(section.body, str):
            out += [md(section.body), ""]
        else:
            out += [f"- {md(entry)}" for entry in section.body] + [""]
    return "\n".join(out)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def html_page(profile: Profile) -> str:
    score, grade, label = profile.rating
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(profile.name)}</title></head><body>",
        f'<article data-id="{_e(profile.id)}">',
        f"<h1>{_e(profile.name)}</h1>",
        f'<p class="meta">{_e(profile.type)} · as of {profile.as_of.isoformat()}</p>',
        f'<p class="confidence"><strong>Confidence: {score:.2f} · {_e(grade)} · '
        f"{_e(label)}</strong></p>",
    ]
    for section in profile.sections:
        parts.append(f'<section data-tier="{_e(section.tier)}"><h2>{_e(section.title)}</h2>')
        if isinstance(section.body, str):
            parts.append(f"<p>{_e(section.body)}</p>")
        else:
            parts.append("<ul>" + "".join(f"<li>{_e(e)}</li>" for e in section.body) + "</ul>")
        parts.append("</section>")
    parts.append('<section data-tier="strategy-circle"><h2>Source links</h2><ul>')
    for cited in profile.cited:
        address = cited.item.source.address
        if address.startswith(("https://", "http://")):
            link = f'<a href="{_e(address)}" rel="nofollow noopener">{_e(address)}</a>'
        else:
            link = _e(address)
        parts.append(f"<li>{_e(cited.item.id)}: {link}</li>")
    parts.append("</ul></section></article></body></html>")
    return "\n".join(parts)
