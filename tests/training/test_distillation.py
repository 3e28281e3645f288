"""Distillation: batches appended durably, resumed with no duplicate and no gap."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from training.pipeline.distillation import DistillConfig, Question, distill, done_ids


def iter_rows(out_path):
    """The distiller's output rows (a test's reading of the JSONL file)."""
    with open(out_path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


SMOLLM2 = Path(__file__).resolve().parents[2] / "var" / "models" / "SmolLM2-135M-Instruct"


class EchoTeacher:
    """Answers instantly; the last question of each batch is 'cut off' by the limit."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def answer(self, questions: list[Question]) -> list[tuple[str, bool, int]]:
        self.asked.extend(q.id for q in questions)
        return [
            (f"Answer to {q.messages[-1]['content']}.", i == len(questions) - 1, 5)
            for i, q in enumerate(questions)
        ]


class Interrupted(Exception):
    pass


def write_prompts(path: Path, count: int) -> Path:
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": f"question {i}?"}], "source": "t", "row": i}
        )
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def config(tmp_path: Path, **kwargs: object) -> DistillConfig:
    return DistillConfig(
        teacher_path="/models/teacher",
        prompts_path=str(write_prompts(tmp_path / "prompts.jsonl", 7)),
        out_path=str(tmp_path / "out.jsonl"),
        batch_size=3,
        **kwargs,
    )


def stop_after_first_batch(number: int, rows: list) -> None:
    if number == 0:
        raise Interrupted


def test_it_resumes_after_an_interruption_without_duplicates_or_gaps(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with pytest.raises(Interrupted):
        distill(cfg, EchoTeacher(), after_batch=stop_after_first_batch)
    assert len(done_ids(cfg.out_path)) == 3

    teacher = EchoTeacher()
    summary = distill(cfg, teacher)

    ids = [row["id"] for row in iter_rows(cfg.out_path)]
    assert sorted(ids) == sorted(f"t:{i}" for i in range(7)) and len(ids) == 7
    assert teacher.asked == [f"t:{i}" for i in range(3, 7)]
    assert summary == {"answered": 4, "skipped": 3, "truncated": 2}


def test_it_cuts_a_torn_last_line_and_answers_that_question_again(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    distill(cfg, EchoTeacher(), after_batch=lambda n, rows: None)
    lines = Path(cfg.out_path).read_text().splitlines(keepends=True)
    # A crash in the middle of writing the last row leaves half a line behind.
    Path(cfg.out_path).write_text("".join(lines[:-1]) + lines[-1][:25])

    teacher = EchoTeacher()
    distill(cfg, teacher)

    assert teacher.asked == ["t:6"]
    rows = list(iter_rows(cfg.out_path))
    assert [r["id"] for r in rows] == [f"t:{i}" for i in range(7)]


def test_it_records_teacher_settings_time_and_truncation(tmp_path: Path) -> None:
    cfg = config(tmp_path, max_new_tokens=77)
    distill(cfg, EchoTeacher())
    rows = list(iter_rows(cfg.out_path))
    first = rows[0]
    assert first["teacher"] == "teacher" and first["settings"]["max_new_tokens"] == 77
    assert first["created_at"] and first["messages"][-1]["role"] == "assistant"
    assert [r["truncated"] for r in rows] == [False, False, True, False, False, True, True]


def test_it_stops_at_the_limit_across_runs(tmp_path: Path) -> None:
    cfg = config(tmp_path, limit=4)
    distill(cfg, EchoTeacher())
    assert distill(cfg, EchoTeacher()) == {"answered": 0, "skipped": 4, "truncated": 0}
    assert len(list(iter_rows(cfg.out_path))) == 4


@pytest.mark.slow
def test_it_distils_dialogues_with_a_real_teacher(tmp_path: Path) -> None:
    from tests.training.test_curation import write_dialogues_csv

    out = tmp_path / "distilled.jsonl"
    call_command(
        "distill",
        "--teacher",
        str(SMOLLM2),
        "--prompts",
        str(write_dialogues_csv(tmp_path / "d.csv")),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--max-new-tokens",
        "6",
    )
    rows = list(iter_rows(out))
    assert [r["id"] for r in rows] == ["udc:d1", "udc:d2"]
    # The context before the question travels with it.
    assert rows[0]["messages"][0]["content"] == "hello all\nhow do I mount a USB stick on hardy?"
    # Six tokens are too few for a whole answer: the teacher is cut off, and says so.
    assert all(
        r["truncated"] and r["answer_tokens"] == 6 and r["messages"][-1]["content"] for r in rows
    )
