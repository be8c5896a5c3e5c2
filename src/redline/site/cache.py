"""A small in-process cache for rendered page fragments: published versions never change."""
from __future__ import annotations

import threading
from collections import OrderedDict

from markupsafe import Markup

from . import context

_lock = threading.Lock()
_entries: OrderedDict = OrderedDict()
MAX_ENTRIES = 512


def fragment(key, build) -> Markup:
    """Return the cached HTML for `key`, building it once with `build()` on a miss."""
    key = (context.render_mode(), key)  # a frozen page differs from the app's (footer, links)
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]
    html = Markup(build())
    with _lock:
        _entries[key] = html
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _entries.clear()
