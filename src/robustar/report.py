"""The repair report as a file to share: the verdict at the top, then the tables, as Markdown or
as one self-contained HTML page (inline CSS, no script, nothing to load), so that it reads the
same from a mail attachment, a wiki or an archive, with no server and no network.

Both formats are written from one outline (sections of paragraphs, lists and tables), so they
say the same things.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from robustar.errors import ConfigError
from robustar.models.versions import VersionInfo
from robustar.verdict import RepairReport, percent, points_word

Format = Literal["html", "markdown"]
SUFFIXES: dict[str, Format] = {".html": "html", ".htm": "html", ".md": "markdown"}


@dataclass(frozen=True)
class Lead:
    """A paragraph that stands out (the conclusion)."""

    text: str


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]


Block = Lead | str | list[str] | Table  # a lead, a paragraph, a bulleted list, a table


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block]


def format_of(name: str) -> Format:
    """The format a file name's suffix asks for."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"a report cannot be written as '{suffix or name}'",
            f"name the file with one of {', '.join(SUFFIXES)}",
        )
    return SUFFIXES[suffix]


def _cell(value: float | None) -> str:
    return "-" if value is None else percent(value)


def _delta(before: float | None, after: float | None) -> str:
    return "-" if before is None or after is None else f"{100 * (after - before):+.1f}"


def _change_row(name: str, before: float | None, after: float | None) -> list[str]:
    return [name, _cell(before), _cell(after), _delta(before, after)]


def _versions(before: VersionInfo, after: VersionInfo) -> Section:
    def row(v: VersionInfo) -> list[str]:
        parent = "-" if v.parent_id is None else f"v{v.parent_id}"
        made = f"{v.created_at:%Y-%m-%d %H:%M}"
        return [f"v{v.id}", v.name, parent, v.architecture, v.source, v.status, made]

    head = ["version", "name", "parent", "architecture", "source", "status", "made"]
    return Section("Versions", [Table(head, [row(before), row(after)])])


def _splits(report: RepairReport, b: str, a: str) -> Section:
    head = ["split", b, a, "Δ points", "images", "fixed", "broken", "changed"]
    rows = [
        [
            *_change_row(s.split, s.before, s.after),
            *map(str, (s.images, s.fixed, s.broken, s.changed)),
        ]
        for s in report.splits
    ]
    note = (
        "Fixed: wrong before, right after. Broken: right before, wrong after. "
        "Changed: a different predicted class."
    )
    return Section("Accuracy per split", [note, Table(head, rows)])


def _reliance(report: RepairReport, b: str, a: str) -> Section:
    title = "Reliance on the painted pixels"
    f = report.filled
    if f is None:
        return Section(title, ["No annotated test images: not measured."])
    rows = [
        _change_row("original", f.before_original, f.after_original),
        _change_row("masks filled", f.before_filled, f.after_filled),
        _change_row(
            "saliency inside the masks", f.before_saliency_in_mask, f.after_saliency_in_mask
        ),
    ]
    note = (
        f"{f.images} annotated {f.split} images, as they are and with their spurious masks "
        f"filled ({f.filler} noise). A model that ignores those pixels keeps its accuracy "
        "when they are filled."
    )
    return Section(title, [note, Table(["", b, a, "Δ points"], rows)])


def _guard(after: VersionInfo) -> list[Section]:
    guard = after.guard
    if guard is None:
        return []
    head = ["check", "images", f"v{guard.parent_id}", f"v{after.id}", "passed"]
    rows = [
        [
            c.metric,
            str(c.images),
            percent(c.parent),
            percent(c.candidate),
            "yes" if c.passed else "no",
        ]
        for c in guard.checks
    ]
    return [Section("Regression guard", [guard.reason, Table(head, rows)])]


def _options(after: VersionInfo) -> Section:
    title = f"Options v{after.id} was made with"
    if not after.config:
        return Section(title, ["None recorded."])
    rows = [
        [key, value if isinstance(value, str) else json.dumps(value)]
        for key, value in sorted(after.config.items())
    ]
    return Section(title, [Table(["option", "value"], rows)])


def outline(
    report: RepairReport, before: VersionInfo, after: VersionInfo, made: datetime
) -> tuple[str, list[Section]]:
    """The report's title and sections, whatever the format."""
    b, a = f"v{report.before}", f"v{report.after}"
    verdict = report.verdict
    stamp = (
        f"Made {made:%Y-%m-%d %H:%M} with Robustar. An accuracy held when it moved by at most "
        f"{points_word(verdict.tolerance)} (the regression guard's tolerance), or by no more "
        "than its noise where the verdict says so."
    )
    per_class = [
        Section(
            f"Per class on {s.split}",
            [
                Table(
                    ["class", b, a, "Δ points"],
                    [_change_row(c.name, c.before, c.after) for c in s.per_class],
                )
            ],
        )
        for s in report.splits
    ]
    sections = [
        Section("Verdict", [Lead(verdict.conclusion), verdict.sentences, stamp]),
        _versions(before, after),
        _splits(report, b, a),
        _reliance(report, b, a),
        *per_class,
        *_guard(after),
        _options(after),
    ]
    return f"Repair report: {a} ({after.name}) against {b} ({before.name})", sections


def _md_text(text: str) -> str:
    """Text that Markdown shows as it is: no emphasis, code, link, HTML or cell from its
    characters (an underscore inside a word, as in tiny_cnn, is no emphasis)."""
    for char in "\\`*[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def _md_block(block: Block) -> str:
    if isinstance(block, Lead):
        return f"**{_md_text(block.text)}**"
    if isinstance(block, str):
        return _md_text(block)
    if isinstance(block, list):
        return "\n".join(f"- {_md_text(item)}" for item in block)
    rule = "| " + " | ".join("---" for _ in block.head) + " |"
    rows = ["| " + " | ".join(map(_md_text, row)) + " |" for row in [block.head, *block.rows]]
    return "\n".join([rows[0], rule, *rows[1:]])


def markdown(title: str, sections: list[Section]) -> str:
    parts = [f"# {_md_text(title)}"]
    for section in sections:
        parts.append(f"## {_md_text(section.title)}")
        parts.extend(_md_block(b) for b in section.blocks)
    return "\n\n".join(parts) + "\n"


STYLE = """
body { font: 14px/1.5 system-ui, sans-serif; color: #1d2430; max-width: 960px;
       margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.lead { font-size: 16px; font-weight: 600; padding: 8px 12px; background: #eef3fb;
        border-left: 4px solid #3d6fd1; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d5dae3; padding: 3px 10px; text-align: left; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def _html_cell(text: str, tag: str) -> str:
    """A cell; figures (+1.0, 96.4%, 12) align right."""
    numeric = tag == "td" and text[:1] in "+-0123456789" and " " not in text
    attribute = ' class="num"' if numeric else ""
    return f"<{tag}{attribute}>{html.escape(text)}</{tag}>"


def _html_block(block: Block) -> str:
    if isinstance(block, Lead):
        return f'<p class="lead">{html.escape(block.text)}</p>'
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    if isinstance(block, list):
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block) + "</ul>"
    head = "".join(_html_cell(c, "th") for c in block.head)
    rows = "".join(
        "<tr>" + "".join(_html_cell(c, "td") for c in row) + "</tr>" for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def html_page(title: str, sections: list[Section]) -> str:
    body = "".join(
        f"<section><h2>{html.escape(s.title)}</h2>{''.join(map(_html_block, s.blocks))}</section>"
        for s in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def render(
    report: RepairReport,
    before: VersionInfo,
    after: VersionInfo,
    format: Format,
    made: datetime | None = None,
) -> str:
    """The report as Markdown or as a self-contained HTML page."""
    title, sections = outline(report, before, after, made or datetime.now())
    return html_page(title, sections) if format == "html" else markdown(title, sections)
