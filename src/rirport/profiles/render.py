"""Profiles as Markdown and HTML.

Every piece of text in a profile may come from an evidence file someone else wrote, so the HTML
escapes all of it (``html.escape`` with quotes), links only ``http(s)`` addresses, and the
Markdown escapes the characters that would turn text into markup or raw HTML.

Every entry names its sources (:func:`source_note`): the ids of the claims it rests on, each
listed with its grade and address in the Sources section, which every tier reads.
"""

from __future__ import annotations

import html
import re

from rirport.profiles.model import Profile, Refs

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md(text: str) -> str:
    """Text safe inside Markdown: markup characters backslash-escaped, so ``<script>`` and
    ``[x](javascript:…)`` print as text."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def source_ids(profile: Profile, text: str, refs: Refs) -> list[str]:
    """The ids an entry rests on that its text does not already name as ``[id · grade]``."""
    return [r for r in refs if f"[{r} · " not in text]


def source_note(profile: Profile, text: str, refs: Refs) -> str:
    """The note after an entry: ``(sources: a, b)``, or ``(sources: all N below)`` for an entry
    that rests on every claim the profile cites; empty when the text names them all."""
    ids = source_ids(profile, text, refs)
    if not ids:
        return ""
    if len(ids) > 3 and len(set(refs)) == len(profile.cited):
        return f"(sources: all {len(profile.cited)} below)"
    return f"(source{'s' if len(ids) > 1 else ''}: {', '.join(ids)})"


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
        lines = [
            md(f"{text} {note}" if (note := _note(profile, section.title, text, refs)) else text)
            for text, refs in section.cites()
        ]
        if isinstance(section.body, str):
            out += [*lines, ""]
        else:
            out += [f"- {line}" for line in lines] + [""]
    return "\n".join(out)


def _note(profile: Profile, title: str, text: str, refs: Refs) -> str:
    return "" if title == "Sources" else source_note(profile, text, refs)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_refs(profile: Profile, text: str, refs: Refs) -> str:
    ids = source_ids(profile, text, refs)
    if not ids:
        return ""
    if len(ids) > 3 and len(set(refs)) == len(profile.cited):
        return f' <span class="refs">(sources: all {len(profile.cited)} below)</span>'
    links = ", ".join(f'<a href="#src-{_e(r)}">{_e(r)}</a>' for r in ids)
    return f' <span class="refs">(source{"s" if len(ids) > 1 else ""}: {links})</span>'


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
        items = [
            _e(text) + _html_refs(profile, text, refs if section.title != "Sources" else ())
            for text, refs in section.cites()
        ]
        if isinstance(section.body, str):
            parts.append(f"<p>{items[0]}</p>")
        else:
            parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
        parts.append("</section>")
    parts.append('<section data-tier="public"><h2>Source links</h2><ul>')
    for cited in profile.cited:
        address = cited.item.source.address
        if address.startswith(("https://", "http://")):
            link = f'<a href="{_e(address)}" rel="nofollow noopener">{_e(address)}</a>'
        else:
            link = _e(address)
        parts.append(f'<li id="src-{_e(cited.item.id)}">{_e(cited.item.id)}: {link}</li>')
    parts.append("</ul></section></article></body></html>")
    return "\n".join(parts)
