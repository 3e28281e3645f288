"""Curation: each filter on crafted rows, near duplicates, leak-free splits, readable output."""

import csv
import json
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from training.pipeline import curation
from training.pipeline.curation import Candidate, curate, is_chatter, is_truncated_answer, split

GOOD_ANSWER = "Run sudo apt update, then sudo apt upgrade."


def candidate(
    prompt: str, response: str = GOOD_ANSWER, row: int = 0, **kwargs: object
) -> Candidate:
    return Candidate(prompt=prompt, response=response, source="seed", row=row, **kwargs)


def write_seed_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["prompt", "response"])
        for prompt, response in rows:
            writer.writerow([f"User: {prompt}\nAssistant:", response])
    return path


def write_dialogues_csv(path: Path) -> Path:
    rows = [
        ("d1", "2008-01-01T10:00:00.000Z", "ann", "", "hello all"),
        ("d1", "2008-01-01T10:01:00.000Z", "ann", "", "how do I mount a USB stick on hardy?"),
        ("d1", "2008-01-01T10:02:00.000Z", "bob", "ann", "plug it in, it mounts under /media"),
        ("d1", "2008-01-01T10:03:00.000Z", "ann", "bob", "thanks"),
        ("d2", "2008-01-02T10:00:00.000Z", "cid", "", "my wifi card is not working after upgrade"),
        ("d2", "2008-01-02T10:01:00.000Z", "dan", "cid", "which chipset? try lspci"),
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["", "dialogueID", "date", "from", "to", "text"])
        for i, row in enumerate(rows):
            writer.writerow([100 + i, *row])
    return path


def test_it_drops_empty_answers() -> None:
    kept, removed = curate([candidate("How do I upgrade ubuntu?", "   ")])
    assert kept == [] and removed["empty_answer"] == 1


@pytest.mark.parametrize(
    "answer",
    [
        "To fix this, first open a terminal and type",
        "Here are the steps:",
        "You can try the following,",
        "1. Open the settings\n2. Go to",
    ],
)
def test_it_treats_answers_without_a_final_stop_as_truncated(answer: str) -> None:
    assert is_truncated_answer(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "Reboot the machine.",
        "Did you try a reboot?",
        "Use `lsblk`",
        "```\nsudo reboot\n```",
        "(see man mount)",
    ],
)
def test_it_keeps_answers_that_end_a_sentence(answer: str) -> None:
    assert not is_truncated_answer(answer)


def test_it_trusts_the_distillers_truncated_flag() -> None:
    assert is_truncated_answer("A complete sentence.", truncated_flag=True)


def test_it_does_not_apply_the_token_limit_rule_to_human_replies() -> None:
    row = candidate("how do I mount a usb stick?", "plug it in", from_teacher=False)
    kept, removed = curate([row])
    assert kept == [row] and removed["truncated_answer"] == 0


@pytest.mark.parametrize(
    "prompt",
    [
        "hello",
        "thanks!",
        "hi everyone",
        "thank you so much",
        "ok",
        "WTF?",
        "i love this song so much",
    ],
)
def test_it_treats_greetings_thanks_short_and_questionless_prompts_as_chatter(prompt: str) -> None:
    assert is_chatter(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "How do I install java on ubuntu",
        "anyone know why my sound stopped after the upgrade",
        "my wifi is not working after suspend",
        "apt-get gives an error about a lock file",
        "is there a way to resize an ext3 partition?",
    ],
)
def test_it_keeps_questions_and_problem_reports(prompt: str) -> None:
    assert not is_chatter(prompt)


def test_it_drops_exact_duplicates_after_normalising() -> None:
    rows = [
        candidate("How do I install Java?", row=0),
        candidate("how do i install java", row=1),
    ]
    kept, removed = curate(rows)
    assert [c.row for c in kept] == [0] and removed["exact_duplicate"] == 1


def test_it_drops_near_duplicates_above_the_jaccard_bar() -> None:
    base = "how do I install the nvidia driver for my geforce card on ubuntu hardy heron today"
    near = base.replace("today", "please")  # 15 of 17 distinct tokens shared: Jaccard 0.88
    different = "how do I change the screen resolution of my laptop display under gnome settings"
    kept, removed = curate(
        [candidate(base, row=0), candidate(near, row=1), candidate(different, row=2)]
    )
    assert curation.jaccard(curation.tokens(base), curation.tokens(near)) >= 0.8
    assert [c.row for c in kept] == [0, 2] and removed["near_duplicate"] == 1


def test_it_finds_near_duplicates_among_25k_rows_in_seconds() -> None:
    index = curation.NearDuplicateIndex()
    words = [f"word{i}" for i in range(4000)]
    started = time.monotonic()
    for i in range(25_000):
        index.add_unless_near({words[(i * 7 + k * 13) % 4000] for k in range(12)})
    assert time.monotonic() - started < 30


def test_it_splits_70_15_15_by_group_and_deterministically() -> None:
    rows = [candidate(f"question number {i} about apt?", row=i) for i in range(100)]
    rows += [
        candidate(f"follow-up {i} in one dialogue?", row=100 + i, dialogue_id="d9")
        for i in range(5)
    ]
    first, second = split(rows, seed=69), split(list(reversed(rows)), seed=69)
    # 101 groups (100 prompts and one dialogue of five rows): 71 / 15 / 15 groups.
    assert sorted(len({c.group_key() for c in part}) for part in first.values()) == [15, 15, 71]
    assert {k: sorted(c.row for c in v) for k, v in first.items()} == {
        k: sorted(c.row for c in v) for k, v in second.items()
    }
    homes = {name for name, part in first.items() for c in part if c.dialogue_id == "d9"}
    assert len(homes) == 1
    groups = [{c.group_key() for c in part} for part in first.values()]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])


def test_it_reads_dialogues_as_opening_question_with_context_and_reply(tmp_path: Path) -> None:
    found = {
        q.dialogue_id: q
        for q in curation.dialogue_questions(write_dialogues_csv(tmp_path / "d.csv"))
    }
    assert found["d1"].context == ["hello all"]
    assert found["d1"].question == "how do I mount a USB stick on hardy?"
    assert found["d1"].reply == "plug it in, it mounts under /media"
    assert found["d2"].reply == "which chipset? try lspci"


def test_it_writes_chat_splits_that_datasets_and_trl_read(tmp_path: Path) -> None:
    topics = ["apt", "grub", "xorg", "wifi", "sound", "java", "samba", "ssh", "cups", "nvidia"]
    verbs = ["install", "remove", "configure"]
    seed_rows = [(f"how do I {v} {t}?", GOOD_ANSWER) for v in verbs for t in topics]
    seed_rows += [("hello", GOOD_ANSWER), ("how do I fix grub?", "First you")]
    report = curation.curate_to_dir(
        tmp_path / "out",
        seed_csv=write_seed_csv(tmp_path / "seed.csv", seed_rows),
        dialogues_csv=write_dialogues_csv(tmp_path / "d.csv"),
    )
    assert report["removed"]["chatter_prompt"] == 1 and report["removed"]["truncated_answer"] == 1
    assert sum(report["splits"].values()) == report["kept"] == 32

    from datasets import load_dataset
    from trl.data_utils import is_conversational

    files = {
        name: str(tmp_path / "out" / f"{name}.jsonl") for name in ("train", "validation", "test")
    }
    dataset = load_dataset("json", data_files=files)
    assert dataset["train"].num_rows == report["splits"]["train"]
    example = dataset["train"][0]
    assert is_conversational(example)
    assert [m["role"] for m in example["messages"]] == ["user", "assistant"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["kept"] == 32


@pytest.mark.django_db
def test_it_runs_as_a_management_command_and_registers_the_splits(tmp_path: Path) -> None:
    seed = write_seed_csv(tmp_path / "seed.csv", [("how do I restart gdm?", GOOD_ANSWER)] * 3)
    call_command(
        "curate_dataset", "--seed-csv", str(seed), "--out", str(tmp_path / "out"), "--limit", "2"
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["rows_in"] == 2 and report["removed"]["exact_duplicate"] == 1
    from training.models import Dataset

    [train] = Dataset.objects.all()  # the empty validation and test splits are not offered
    assert (train.split, train.source, train.rows) == ("train", "curated", 1)
    assert train.path == str((tmp_path / "out" / "train.jsonl").resolve())


def test_it_reads_the_distillers_output_and_drops_rows_it_flagged_truncated(tmp_path: Path) -> None:
    rows = [
        {
            "id": "udc:a",
            "dialogue_id": "a",
            "row": 3,
            "truncated": False,
            "q": "how do I mount an iso?",
        },
        {
            "id": "udc:b",
            "dialogue_id": "b",
            "row": 9,
            "truncated": True,
            "q": "why is my fan so loud?",
        },
    ]
    path = tmp_path / "distilled.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": r["q"]},
                        {"role": "assistant", "content": GOOD_ANSWER},
                    ],
                    "source": "distilled",
                    "dialogue_id": r["dialogue_id"],
                    "row": r["row"],
                    "truncated": r["truncated"],
                }
            )
            + "\n"
            for r in rows
        )
    )
    kept, removed = curate(curation.read_chat_candidates(path))
    assert [(c.dialogue_id, c.row, c.source) for c in kept] == [("a", 3, "distilled")]
    assert removed["truncated_answer"] == 1
