"""Datasets as records: registered once with rows, hash and split; bad files refused clearly."""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training.pipeline.datasets import InvalidDataset, register_dataset

pytestmark = pytest.mark.django_db

CHAT = json.dumps(
    {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
)


def test_it_records_rows_hash_and_split(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(f"{CHAT}\n\n{CHAT}\n")

    dataset = register_dataset(path, split="train")

    assert (dataset.rows, dataset.split, dataset.path) == (2, "train", str(path.resolve()))
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_registering_again_refreshes_the_record(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(f"{CHAT}\n")
    first = register_dataset(path, split="train")
    path.write_text(f"{CHAT}\n{CHAT}\n")

    again = register_dataset(path, split="train")

    assert again.pk == first.pk and again.rows == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json\n", 'line 1 is not a JSON object with "messages"'),
        ('{"prompt": "q"}\n', 'line 1 is not a JSON object with "messages"'),
        (f'{CHAT}\n{{"messages": []}}\n', "line 2: messages must be a non-empty list"),
        ('{"messages": [{"role": "robot", "content": "x"}]}\n', "needs a role and a content"),
        ("\n\n", "holds no conversations"),
    ],
)
def test_a_file_that_is_not_chat_jsonl_is_refused_with_its_line(tmp_path, text, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(InvalidDataset, match=message):
        register_dataset(path, split="all")


def test_a_missing_and_an_unreadable_file_read_the_same(tmp_path):
    missing, folder = tmp_path / "nope.jsonl", tmp_path
    with pytest.raises(InvalidDataset) as gone:
        register_dataset(missing, split="all")
    with pytest.raises(InvalidDataset) as unreadable:
        register_dataset(folder, split="all")
    # Nothing tells a probe which paths exist.
    assert str(gone.value).endswith("is not a readable file")
    assert str(unreadable.value).endswith("is not a readable file")


def test_the_command_registers_or_says_why_not(tmp_path, capsys):
    good, bad = tmp_path / "replay.jsonl", tmp_path / "bad.jsonl"
    good.write_text(f"{CHAT}\n")
    bad.write_text("nope\n")

    call_command("register_dataset", str(good), "--name", "distilled")

    assert "Registered distilled" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a JSON object"):
        call_command("register_dataset", str(bad))
