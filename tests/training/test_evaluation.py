"""Evaluation: the teacher-forced loss, the gate's figures, the report and its admin view."""

import json
import math
from pathlib import Path

import pytest

from tests.factories import ModelVersionFactory
from tests.fake_engine import DeterministicEngine
from training.pipeline.evaluation import Gate, evaluate_version, gate_quality

SMOLLM2 = Path(__file__).resolve().parents[2] / "var" / "models" / "SmolLM2-135M-Instruct"


def test_it_reports_auroc_coverage_and_the_threshold_for_a_target_accuracy() -> None:
    good = [True, True, False, False]
    figures = gate_quality(
        {"mean_top_prob": [0.9, 0.8, 0.3, 0.2], "min_chosen_prob": [0.1, 0.2, 0.8, 0.9]},
        good,
        Gate("mean_top_prob", 0.5),
        target_accuracy=0.8,
    )
    assert figures["auroc"] == {"mean_top_prob": 1.0, "min_chosen_prob": 0.0}
    assert figures["at_threshold"]["coverage"] == 0.5 and figures["at_threshold"]["accuracy"] == 1.0
    assert figures["for_target_accuracy"]["threshold"] == 0.8


def write_test_split(path: Path) -> Path:
    pairs = [
        ("How do I list files? [low]", "Use ls in a terminal."),
        ("How do I check disk space?", "Run df -h."),
        ("How do I see running processes? [low]", "Run top or ps aux."),
        ("How do I restart the computer?", "Run sudo reboot."),
    ]
    path.write_text(
        "".join(
            json.dumps(
                {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            )
            + "\n"
            for q, a in pairs
        )
    )
    return path


@pytest.mark.slow
@pytest.mark.django_db
def test_it_evaluates_a_version_stores_the_report_and_shows_it_to_staff(
    tmp_path: Path, settings, client, manager, user
) -> None:
    settings.MODELS_DIR = tmp_path / "models"
    version = ModelVersionFactory(name="smol", base_model_path=str(SMOLLM2), gate_threshold=0.5)

    report = evaluate_version(
        version,
        write_test_split(tmp_path / "test.jsonl"),
        good_bar=0.3,
        engine=DeterministicEngine(),
    )

    forcing = report["teacher_forcing"]
    assert forcing["answer_tokens"] > 10 and 0 < forcing["loss"] < 20
    assert forcing["perplexity"] == pytest.approx(math.exp(forcing["loss"]))
    assert set(report["auroc"]) >= {"mean_top_prob", "neg_mean_entropy"}
    # The deterministic engine is unsure exactly on the "[low]" questions.
    assert report["at_threshold"]["coverage"] == 0.5
    report_dir = tmp_path / "models" / "reports" / "smol"
    assert (report_dir / "report.json").exists() and (
        report_dir / "reliability.png"
    ).stat().st_size > 1000
    version.refresh_from_db()
    assert version.evaluation["report"] == str(report_dir / "report.json")
    assert version.evaluation["summary"]["perplexity"] == pytest.approx(forcing["perplexity"])

    client.force_login(manager)
    page = client.get(f"/admin/training/trainingrun/evaluation/{version.pk}/")
    assert (
        page.status_code == 200
        and b"rouge_l" in page.content
        and b"reliability.png" in page.content
    )
    plot = client.get(f"/admin/training/trainingrun/evaluation/{version.pk}/reliability.png")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"
    assert (
        client.get(f"/admin/training/trainingrun/evaluation/{version.pk}/report.json").status_code
        == 404
    )

    index = client.get("/admin/training/trainingrun/evaluation/")
    assert index.status_code == 200 and b"smol" in index.content
    assert b"Evaluations" in client.get("/admin/training/trainingrun/").content

    client.force_login(user)
    denied = client.get(f"/admin/training/trainingrun/evaluation/{version.pk}/reliability.png")
    assert denied.status_code == 302  # a non-staff user is sent to the admin login
