"""A small inline-SVG icon set: glyphs such as 📎 or ⚙ render as boxes where the font lacks them
(Debian's CJK fonts have no emoji), while an SVG path draws the same everywhere.

Each icon is 24×24 stroke paths in ``currentColor``; ``icon(name)`` returns the markup, ``aria-hidden``.
"""

from __future__ import annotations

from markupsafe import Markup

PATHS: dict[str, str] = {
    "home": '<path d="M3 11 12 3l9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "demand": '<circle cx="12" cy="12" r="8"/><circle cx="12" cy="12" r="4"/><circle cx="12" cy="12" r="1"/>',
    "achievement": '<path d="M9 18h6"/><path d="M10 21h4"/><path d="M12 3a6 6 0 0 0-4 10.5c.8.8 1 1.5 1 2.5h6'
    'c0-1 .2-1.7 1-2.5A6 6 0 0 0 12 3z"/>',
    "capability": '<rect x="3" y="3" width="7" height="7" rx="1"/>'
    '<rect x="14" y="3" width="7" height="7" rx="1"/><rect x="3" y="14" width="7" height="7" rx="1"/>'
    '<rect x="14" y="14" width="7" height="7" rx="1"/>',
    "deals": '<path d="M4 8h13l-3-3"/><path d="M20 16H7l3 3"/>',
    "bookings": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>'
    '<path d="m9 15 2 2 4-4"/>',
    "dashboard": '<path d="M12 3a9 9 0 1 0 9 9h-9z"/><path d="M15 3.5A9 9 0 0 1 20.5 9H15z"/>',
    "report": '<path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5M9 13h7M9 17h7"/>',
    "import": '<path d="M12 15V3M7 8l5-5 5 5"/><path d="M4 15v5h16v-5"/>',
    "jobs": '<path d="M20 12a8 8 0 1 1-2.3-5.7"/><path d="M20 4v5h-5"/>',
    "notifications": '<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 21h4"/>',
    "chains": '<path d="M8 6h13M8 12h13M8 18h13"/><path d="M3 6h.01M3 12h.01M3 18h.01"/>',
    "zone_settings": '<path d="M5 21V4"/><path d="M5 4h11l-2 4 2 4H5"/>',
    "admin": '<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1'
    'M17 17l2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1"/>',
    "account": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-4-4"/>',
    "paperclip": '<path d="M20 11.5 12 19.5a5 5 0 0 1-7-7l8.5-8.5a3.5 3.5 0 0 1 5 5'
    'L10 17.5a2 2 0 0 1-3-3l8-8"/>',
    "download": '<path d="M12 3v12M7 10l5 5 5-5"/><path d="M4 17v3h16v-3"/>',
    "empty": '<circle cx="12" cy="12" r="8"/><path d="M6 18 18 6"/>',
    "info": '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>',
    "contact": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
}


def icon(name: str, label: str = "") -> Markup:
    """The icon ``name`` as inline SVG; an unknown name is shown as its text (so nothing draws a box)."""
    paths = PATHS.get(name)
    if paths is None:
        return Markup('<span class="icon-text" aria-hidden="true">{}</span>').format(name)
    title = Markup("<title>{}</title>").format(label) if label else Markup("")
    hidden = "" if label else ' aria-hidden="true"'
    return Markup(
        f'<svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" '
        f'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"{hidden}>{title}{paths}</svg>'
    )
