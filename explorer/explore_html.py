"""The explorer page as one self-contained HTML file: the data of
:func:`explorer.explore.build_page` as embedded JSON, the page's own CSS and JS inline.
Nothing is fetched: no server, no network, no CDN (the page's Content-Security-Policy
forbids it), so the file can be attached to a bug report and opened anywhere."""

from __future__ import annotations

import html
import json
from importlib.resources import files
from string import Template


def _asset(name: str) -> str:
    return files("explorer").joinpath("page_assets", name).read_text("utf-8")


def render_html(data: dict) -> str:
    title = f"cowspec explorer: {data['spec'] or ''} model {data['model']}"
    st = data["stats"]
    stats = (f"{st['distinct']:,} distinct states, {st['generated']:,} generated, depth "
             f"{st['depth']}{'' if st['complete'] else ' (search incomplete)'}; "
             f"{st['shown']:,} states on this page; check exit code {data['exit_code']}")
    if data["constants"]:
        stats += "; " + ", ".join(f"{k} = {v}" for k, v in data["constants"].items())
    notes = "".join(f'<div class="note">{html.escape(n)}</div>\n' for n in data["notes"])
    # JSON inside <script>: "</" would end the element, so it is written "<\/".
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return Template(_asset("page.html")).substitute(
        title=html.escape(title), stats=html.escape(stats), notes=notes,
        css=_asset("page.css"), js=_asset("page.js"), data=blob,
    )
