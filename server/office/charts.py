"""SVG charts drawn on the server: no script, no inline style (colours are CSS classes in office.css,
so the strict CSP holds), every text escaped. Each chart names itself for screen readers
(role="img" and an aria-label) and the page puts a table of the same numbers beside it; every
number of the table is in the SVG too, as a label or a bar's <title>.

Two shapes: horizontal bars (a label above each bar, its value after it) and stacked columns (one
per week, its total above it, a legend below).
"""

from markupsafe import Markup, escape

WIDTH = 480
SERIES = 6  # colour classes c0 … c5; more series than that share the last


class Chart:
    """A chart and its table: the page renders `svg` beside a table of `header` and `rows`."""

    def __init__(self, key: str, title: str, svg: Markup, header: list[str], rows: list[list], note: str = ""):
        self.key, self.title, self.svg, self.header, self.rows, self.note = key, title, svg, header, rows, note


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
                  f'role="img" aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
                  + "".join(body) + "</svg>")


def hbars(label: str, rows: list[tuple[str, float, str]], series: int = 0) -> Markup:
    """Horizontal bars: (label, value, the value as shown) each, largest scale first."""
    most = max((value for _, value, _ in rows), default=0) or 1
    body, y = [], 4
    for text, value, shown in rows:
        width = round(value / most * (WIDTH - 90), 1)
        body.append(f'<text class="label" x="0" y="{y + 13}">{escape(text)}</text>')
        body.append(f'<rect class="bar c{min(series, SERIES - 1)}" x="0" y="{y + 19}" width="{max(width, 1)}" '
                    f'height="14"><title>{escape(text)}: {escape(shown)}</title></rect>')
        body.append(f'<text class="value" x="{width + 6}" y="{y + 31}">{escape(shown)}</text>')
        y += 40
    return _svg(WIDTH, max(y, 24), label, body)


def paired_bars(label: str, rows: list[tuple[str, list[tuple[float, str]]]], names: list[str]) -> Markup:
    """Horizontal bars in pairs (or more) per label: (label, [(value, shown) per series])."""
    most = max((value for _, pairs in rows for value, _ in pairs), default=0) or 1
    body, y = [], 4
    for text, pairs in rows:
        body.append(f'<text class="label" x="0" y="{y + 13}">{escape(text)}</text>')
        y += 17
        for n, (value, shown) in enumerate(pairs):
            width = round(value / most * (WIDTH - 90), 1)
            body.append(f'<rect class="bar c{min(n, SERIES - 1)}" x="0" y="{y}" width="{max(width, 1)}" height="12">'
                        f'<title>{escape(text)} {escape(names[n])}: {escape(shown)}</title></rect>')
            body.append(f'<text class="value" x="{width + 6}" y="{y + 11}">{escape(shown)}</text>')
            y += 15
        y += 8
    y = _legend(body, names, y + 4)
    return _svg(WIDTH, y, label, body)


def _legend(body: list[str], names: list[str], y: int) -> int:
    x = 0
    for n, name in enumerate(names):
        body.append(f'<rect class="bar c{min(n, SERIES - 1)}" x="{x}" y="{y}" width="12" height="12"></rect>')
        body.append(f'<text class="label" x="{x + 16}" y="{y + 11}">{escape(name)}</text>')
        x += 24 + 9 * len(name) if name.isascii() else 24 + 15 * len(name)
        if x > WIDTH - 80:
            x, y = 0, y + 18
    return y + 20


def columns(label: str, ticks: list[str], series: list[tuple[str, list[int]]]) -> Markup:
    """Stacked columns: one per tick (a week), a segment per series, the total above each column."""
    count = len(ticks)
    step = max(24, min(48, (WIDTH - 10) // max(count, 1)))
    width = max(WIDTH, 10 + step * count)
    top, plot = 22, 170
    totals = [sum(values[i] for _, values in series) for i in range(count)]
    most = max(totals, default=0) or 1
    body = [f'<line class="axis" x1="0" y1="{top + plot}" x2="{width}" y2="{top + plot}"></line>']
    every = max(1, -(-count // 8))
    for i, tick in enumerate(ticks):
        x, base = 5 + i * step, top + plot
        for n, (name, values) in enumerate(series):
            height = round(values[i] / most * plot, 1)
            base -= height
            body.append(f'<rect class="bar c{min(n, SERIES - 1)}" x="{x}" y="{round(base, 1)}" width="{step - 6}" '
                        f'height="{height}"><title>{escape(tick)} {escape(name)}: {values[i]}</title></rect>')
        body.append(f'<text class="value" x="{x + (step - 6) / 2}" y="{round(base - 4, 1)}" '
                    f'text-anchor="middle">{totals[i]}</text>')
        if i % every == 0:
            body.append(f'<text class="label" x="{x}" y="{top + plot + 16}">{escape(tick)}</text>')
    y = _legend(body, [name for name, _ in series], top + plot + 28)
    return _svg(width, y, label, body)
