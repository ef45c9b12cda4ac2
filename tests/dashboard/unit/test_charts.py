import re
from decimal import Decimal

from dashboard.charts import Bar, bar_chart_svg, sparkline_svg


def heights(svg: str) -> list[str]:
    return re.findall(r'<rect [^>]*height="([^"]+)"', svg)


def test_bars_scale_to_the_largest_value():
    # given
    bars = [
        Bar("Jan", Decimal("50.00"), "$50.00"),
        Bar("Feb", Decimal("100.00"), "$100.00"),
        Bar("Mar", Decimal("25.00"), "$25.00"),
    ]
    # when
    svg = bar_chart_svg(bars, width=300, height=120, label="MRR")
    # then: a plot 100 high (the chart less the labels' 20)
    assert heights(svg) == ["50.0", "100.0", "25.0"]
    assert re.findall(r'<rect x="([^"]+)" y="([^"]+)"', svg) == [
        ("10.0", "50.0"),
        ("110.0", "0.0"),
        ("210.0", "75.0"),
    ]
    assert [t for t in re.findall(r">([A-Z][a-z]{2})</text>", svg)] == ["Jan", "Feb", "Mar"]


def test_a_chart_of_zeros_or_negatives_draws_flat_bars():
    # when
    svg = bar_chart_svg([Bar("Jan", 0, "$0.00"), Bar("Feb", Decimal("-5"), "-$5.00")], label="MRR")
    # then
    assert heights(svg) == ["0.0", "0.0"]


def test_labels_titles_and_links_are_escaped():
    # given
    bar = Bar('<b>"x"</b>', 1, "a & b", href="/admin/?a=1&b=2")
    # when
    svg = bar_chart_svg([bar], label="<chart>")
    # then
    assert "<b>" not in svg
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in svg
    assert 'href="/admin/?a=1&amp;b=2"' in svg
    assert 'aria-label="&lt;chart&gt;"' in svg
    assert "<title>&lt;b&gt;&quot;x&quot;&lt;/b&gt;: a &amp; b</title>" in svg


def test_a_sparkline_runs_oldest_left_to_newest_right_scaled_to_the_peak():
    # when
    svg = sparkline_svg([0, 5, 10, 5, 0], width=100, height=50, label="Events")
    # then
    assert 'points="0.0,50.0 25.0,25.0 50.0,0.0 75.0,25.0 100.0,50.0"' in svg


def test_a_sparkline_of_no_events_lies_flat_on_the_axis():
    # when
    svg = sparkline_svg([0, 0, 0], width=10, height=8, label="Events")
    # then
    assert 'points="0.0,8.0 5.0,8.0 10.0,8.0"' in svg
