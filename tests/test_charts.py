"""The coverage chart's geometry and its one-sentence description."""
import datetime as dt

from redline.site import charts

START = dt.date(2027, 1, 1)


def series(counts):
    return [(START + dt.timedelta(days=i), n) for i, n in enumerate(counts)]


def test_bars_sit_on_a_rounded_axis_inside_the_plot():
    chart = charts.bar_chart(series([0, 3, 7, 1]), width=400, height=200)
    assert chart.unit == "day" and chart.total == 11 and len(chart.bars) == 4
    assert [label for _, label in chart.y_ticks] == ["0", "2", "5", "7", "10"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 7 and chart.peak is tallest
    plot_bottom = chart.height - chart.bottom
    for bar in chart.bars:
        assert bar.x >= chart.left and bar.x + bar.width <= chart.width
        assert abs(bar.y + bar.height - plot_bottom) < 0.01
    assert chart.bars[0].height == 0


def test_long_spans_are_drawn_per_week():
    chart = charts.bar_chart(series([1] * 200))
    assert chart.unit == "week" and chart.total == 200
    assert chart.bars[0].label.startswith("week of")
    assert len(chart.bars) == 30


def test_the_description_counts_and_names_the_busiest_day():
    chart = charts.bar_chart(series([0, 2, 5]))
    text = charts.describe(chart, "acceptance", " of version 3", START)
    assert text == ("7 acceptances of version 3 from 1 January 2027 to today; the busiest day was "
                    "3 Jan 2027, with 5.")
    one = charts.bar_chart(series([1]))
    assert charts.describe(one, "acceptance", " of version 3", START).startswith("1 acceptance of version 3 from")
    assert charts.bar_chart([]).bars == []
