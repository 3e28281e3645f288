"""The dashboard's SVG charts, from plain figures: no database needed."""

from training.dashboard.charts import calibration_chart, grouped_bars, horizontal_bars


def test_it_escapes_labels_that_come_from_the_database():
    svg = horizontal_bars("Escalations by reason", [("<script>alert(1)</script>", 50.0)])

    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_it_leaves_gaps_for_confidence_bins_without_answers():
    table = [{"center": 0.95, "thumbs_up": 0.5, "not_escalated": 1.0}]

    svg = calibration_chart(table, bins=10)

    # One point each for the two measured shares, ten for the diagonal; only it is a line.
    assert svg.count("<circle") == 12
    assert svg.count("<polyline") == 1


def test_it_rounds_the_top_of_the_axis_up_to_a_round_number():
    svg = grouped_bars("Answers", ["0.0", "0.1"], {"passed": [7, 3]})

    assert ">10</text>" in svg
    assert ">7.5</text>" in svg
