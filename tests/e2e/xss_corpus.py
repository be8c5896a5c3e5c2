"""Hostile text for the XSS suites: every common way to smuggle script through typed text."""
from __future__ import annotations

SCHEMES = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", "&#106;avascript:alert(3)",
           "&#x6A;avascript:alert(4)", "java\tscript:alert(5)", "%6Aavascript:alert(6)",
           " javascript:alert(7)", "data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==",
           "vbscript:msgbox(9)", "jav&#x09;ascript:alert(10)"]
TAGS = ["<script>alert(11)</script>", "<img src=x onerror=alert(12)>", "<svg onload=alert(13)>",
        "<a href=\"javascript:alert(14)\">x</a>", "<iframe src=\"javascript:alert(15)\"></iframe>",
        "\"><script>alert(16)</script>", "'><img src=x onerror=alert(17)>",
        "<body onload=alert(18)>", "<details open ontoggle=alert(19)>", "</textarea><script>alert(20)</script>",
        "{{ 7*7 }}"]
# One line that fits in a title, a summary or a name (at most 100 characters).
SHORT = "<img src=x onerror=alert(21)><svg onload=alert(22)>"


def markdown_body(title: str) -> str:
    """A policy body with the corpus in links, images, autolinks, references and raw HTML."""
    lines = [f"# {title}", "", "## Links", ""]
    lines += [f"- [link {i}]({s.replace(' ', '%20')})" for i, s in enumerate(SCHEMES)]
    lines += [f"- <{s.strip()}>" for s in SCHEMES if " " not in s.strip() and "\t" not in s]
    lines += [f"- ![image {i}]({s.replace(' ', '%20')})" for i, s in enumerate(SCHEMES)]
    lines += ["- [reference link][evil]", "", "[evil]: javascript:alert(23)", "", "## Raw HTML", ""]
    lines += TAGS
    lines += ["", "<script>alert(24)</script>", "", "<div onmouseover=\"alert(25)\">hover</div>", ""]
    return "\n".join(lines) + "\n"


# Run in the page: anything executable or navigable to script that made it into the DOM.
DOM_CHECK = """() => {
  const bad = [];
  const unsafe = v => /^(javascript|vbscript|data):/i.test((v || '').replace(/[\\u0000-\\u0020]/g, ''));
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(el.tagName + ' ' + a.name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name) && unsafe(a.value))
        bad.push(el.tagName + ' ' + a.name + '=' + a.value);
    }
  }
  for (const s of document.querySelectorAll('script')) {
    const src = typeof s.src === 'string' ? s.src : '';  // an SVG <script> has no string src
    if (!src || new URL(src).origin !== location.origin) bad.push('script ' + (src || s.textContent.slice(0, 40)));
  }
  for (const tag of ['iframe', 'object', 'embed', 'svg script', 'foreignObject']) {
    for (const el of document.querySelectorAll('main ' + tag)) bad.push('element ' + tag);
  }
  return bad;
}"""
