import csv
import hashlib
import json

import pytest
from django.core.management import call_command

from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from tests.feedback.test_redaction import CASES as SECRETS
from training.feedback import export as export_module
from training.feedback.export import ExportFilters, export_examples, validation_path_for
from training.feedback.redaction import KINDS
from training.models import DataExport, ReviewState

pytestmark = pytest.mark.django_db


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_it_writes_chat_messages_with_context_and_provenance(tmp_path, agent):
    version = ModelVersionFactory(name="v-7", system_prompt="Be brief.")
    example = make_example(
        version=version,
        agent=agent,
        context=[
            {"role": "user", "content": "Hi, VPN broken"},
            {"role": "assistant", "content": "Which OS?"},
        ],
        question="Ubuntu. Mail me at bob@corp.example.com",
        correction="Run nmcli con up vpn; server is 10.20.30.40",
    )
    out = tmp_path / "train.jsonl"

    export_examples(out)

    [row] = _lines(out)
    assert row["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi, VPN broken"},
        {"role": "assistant", "content": "Which OS?"},
        {"role": "user", "content": "Ubuntu. Mail me at [EMAIL]"},
        {"role": "assistant", "content": "Run nmcli con up vpn; server is [IPV4]"},
    ]
    provenance = row["provenance"]
    assert provenance["ticket_id"] == example.ticket_id
    assert provenance["question_message_id"] == example.question_message_id
    assert provenance["answer_message_id"] == example.answer_message_id
    assert provenance["model_version"] == "v-7"
    assert provenance["confidence"] == pytest.approx(0.4)
    assert provenance["agent_id"] == agent.pk
    assert provenance["example_created_at"].startswith("2026-01-05")


def test_it_exports_only_approved_examples_by_default(tmp_path):
    approved = make_example(state=ReviewState.APPROVED)
    make_example(state=ReviewState.PENDING)
    make_example(state=ReviewState.REJECTED)
    out = tmp_path / "x.jsonl"

    export = export_examples(out)

    assert [r["provenance"]["example_id"] for r in _lines(out)] == [approved.pk]
    assert export.row_count == 1
    every = export_examples(tmp_path / "all.jsonl", filters=ExportFilters(state="all"))
    assert every.row_count == 3


def test_it_puts_the_latest_tickets_into_validation(tmp_path):
    examples = [make_example(day=day) for day in (3, 0, 4, 1, 2)]
    # A second example on the day-2 ticket: the split must not cut that ticket in two.
    day2 = next(e for e in examples if e.created_at.day == 7)
    make_example(day=2, ticket=day2.ticket)
    out = tmp_path / "split.jsonl"

    export = export_examples(out, validation_fraction=0.4)

    train = [r["provenance"]["ticket_created_at"][:10] for r in _lines(out)]
    validation = [
        r["provenance"]["ticket_created_at"][:10] for r in _lines(validation_path_for(out))
    ]
    assert train == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-07"]
    assert validation == ["2026-01-08", "2026-01-09"]
    assert max(train) < min(validation)
    assert export.row_count == 6


def test_it_records_the_export_with_hash_tickets_and_redaction_counts(tmp_path, manager):
    first = make_example(question="my ip is 192.168.0.7 and pwd=hunter22")
    second = make_example(correction="write to help@corp.example.com")
    out = tmp_path / "rec.jsonl"

    export = export_examples(out, user=manager, filters=ExportFilters(reason="wrong"))

    stored = DataExport.objects.get(pk=export.pk)
    assert stored.started_by == manager
    assert stored.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert stored.ticket_ids == sorted([first.ticket_id, second.ticket_id])
    assert stored.redaction_report["counts"]["IPV4"] == 1
    assert stored.redaction_report["counts"]["PASSWORD"] == 1
    assert stored.redaction_report["counts"]["EMAIL"] == 1
    assert stored.filters["reason"] == "wrong"
    assert stored.filters["state"] == "approved"


def test_it_filters_by_version_reason_and_time(tmp_path):
    version = ModelVersionFactory(name="v-keep")
    keep = make_example(day=3, version=version, reason="incomplete")
    make_example(day=3, version=version, reason="wrong")
    make_example(day=0, version=version, reason="incomplete")
    make_example(day=3, reason="incomplete")
    since = keep.created_at.replace(hour=0)

    export = export_examples(
        tmp_path / "f.jsonl",
        filters=ExportFilters(version="v-keep", reason="incomplete", since=since),
    )

    assert export.ticket_ids == [keep.ticket_id]


def test_it_writes_csv_with_provenance_columns(tmp_path):
    example = make_example(context=[{"role": "user", "content": "call +44 20 7946 0958"}])
    out = tmp_path / "x.csv"

    export_examples(out, fmt="csv")

    with out.open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["ticket_id"] == str(example.ticket_id)
    assert row["correction"] == example.correction
    assert json.loads(row["context"]) == [{"role": "user", "content": "call [PHONE]"}]


def test_the_command_exports_with_its_options(tmp_path):
    make_example(day=0, reason="tone")
    make_example(day=1, reason="tone", state=ReviewState.PENDING)
    out = tmp_path / "cmd.jsonl"

    call_command(
        "export_training_data",
        "--out",
        str(out),
        "--state",
        "all",
        "--reason",
        "tone",
        "--since",
        "2026-01-01",
        "--validation-fraction",
        "0.5",
    )

    assert len(_lines(out)) == 1
    assert len(_lines(validation_path_for(out))) == 1
    assert DataExport.objects.get().filters["validation_fraction"] == 0.5


@pytest.mark.slow
def test_datasets_and_trl_read_the_jsonl_unchanged(tmp_path):
    make_example(day=0, context=[{"role": "user", "content": "hello"}])
    make_example(day=1, confidence=None)
    make_example(day=2)
    out = tmp_path / "hf.jsonl"
    export_examples(out, validation_fraction=0.34)
    from datasets import load_dataset
    from trl.data_utils import is_conversational

    data = load_dataset(
        "json",
        data_files={"train": str(out), "validation": str(validation_path_for(out))},
    )

    assert data["train"].num_rows == 2
    assert data["validation"].num_rows == 1
    assert is_conversational(data["train"][0])
    assert data["train"][0]["messages"][-1]["role"] == "assistant"


def test_it_writes_the_same_provenance_and_texts_to_jsonl_and_csv(tmp_path, agent):
    # The JSONL line is written out by hand for speed; CSV goes through the provenance dict.
    make_example(
        version=ModelVersionFactory(name='v "quoted"\\', system_prompt="Sois bref. ☃"),
        agent=agent,
        context=[{"role": "user", "content": 'Grüße, "VPN"\n\tkaputt'}],
        question="Mail bob@corp.example.com ☃",
        confidence=None,
    )
    make_example(day=1, confidence=0.125)
    jsonl, csv_path = tmp_path / "p.jsonl", tmp_path / "p.csv"

    export_examples(jsonl)
    export_examples(csv_path, fmt="csv")

    with csv_path.open(newline="", encoding="utf-8") as handle:
        cells = list(csv.DictReader(handle))
    lines = _lines(jsonl)
    assert len(lines) == len(cells) == 2
    for line, row in zip(lines, cells, strict=True):
        provenance = line["provenance"]
        assert list(provenance) == list(row)[: len(provenance)]
        assert {k: "" if v is None else str(v) for k, v in provenance.items()} == {
            k: row[k] for k in provenance
        }
        assert line["messages"][-2]["content"] == row["question"]
        assert line["draft"] == row["draft"]
    assert lines[0]["messages"][0] == {"role": "system", "content": "Sois bref. ☃"}
    assert lines[0]["messages"][1]["content"] == 'Grüße, "VPN"\n\tkaputt'
    assert lines[0]["provenance"]["model_version"] == 'v "quoted"\\'
    assert lines[0]["provenance"]["confidence"] is None
    assert lines[1]["provenance"]["confidence"] == 0.125


@pytest.fixture
def pools_started(monkeypatch):
    """How many workers each pool the export forks has."""
    started = []

    class CountedWorkers(export_module._Workers):
        def __init__(self, count):
            started.append(count)
            super().__init__(count)

    monkeypatch.setattr(export_module, "_Workers", CountedWorkers)
    return started


def _examples_with_every_secret():
    version = ModelVersionFactory(name="v-secrets", system_prompt="Be brief. ☃")
    for n, (_kind, text, _expected) in enumerate(SECRETS):
        # Two examples on some tickets, so the validation split has a boundary to respect.
        ticket = None if n % 3 else make_example(day=n, question=f"Grüße {text}").ticket
        make_example(
            day=n,
            ticket=ticket,
            version=version if n % 2 else None,
            context=[{"role": "user", "content": text}] if n % 4 == 0 else None,
            question=f"{n}: {text}",
            draft=text.upper(),
            correction=f"Answer to {text!r}",
        )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_it_writes_the_same_files_and_report_with_a_pool_as_in_one_process(
    tmp_path, fmt, pools_started
):
    _examples_with_every_secret()
    one, pooled = tmp_path / f"one.{fmt}", tmp_path / f"pooled.{fmt}"

    alone = export_examples(one, fmt=fmt, validation_fraction=0.3, chunk_size=4, workers=1)
    shared = export_examples(
        pooled, fmt=fmt, validation_fraction=0.3, chunk_size=4, workers=2, pool_threshold=0
    )

    assert pools_started == [2]
    assert pooled.read_bytes() == one.read_bytes()
    assert validation_path_for(pooled).read_bytes() == validation_path_for(one).read_bytes()
    assert shared.redaction_report["counts"] == alone.redaction_report["counts"]
    assert all(alone.redaction_report["counts"][kind] > 0 for kind in KINDS)
    assert [f["rows"] for f in shared.redaction_report["files"]] == [
        f["rows"] for f in alone.redaction_report["files"]
    ]
    assert [f["sha256"] for f in shared.redaction_report["files"]] == [
        f["sha256"] for f in alone.redaction_report["files"]
    ]
    assert shared.ticket_ids == alone.ticket_ids
    assert shared.row_count == alone.row_count == len(SECRETS) + len(range(0, len(SECRETS), 3))
    for _kind, text, _expected in SECRETS:
        assert text.encode() not in pooled.read_bytes()


def test_it_keeps_small_exports_and_one_worker_in_this_process(tmp_path, pools_started):
    make_example(question="mail bob@corp.example.com")
    make_example(day=1)

    export_examples(tmp_path / "small.jsonl", workers=2)
    export_examples(tmp_path / "one.jsonl", workers=1, pool_threshold=0)

    assert pools_started == []
    assert (tmp_path / "small.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


def test_it_raises_a_workers_error_in_the_export(tmp_path, monkeypatch):
    make_example()
    make_example(day=1)

    def broken(rows, fmt, default_system):
        raise ValueError("unreadable context")

    # Forked workers inherit the patched module.
    monkeypatch.setattr(export_module, "_format_segment", broken)

    with pytest.raises(RuntimeError, match="ValueError: unreadable context"):
        export_examples(tmp_path / "x.jsonl", chunk_size=1, workers=2, pool_threshold=0)


def test_both_formats_write_the_one_list_of_provenance_fields(tmp_path):
    make_example()
    jsonl, csv_path = tmp_path / "f.jsonl", tmp_path / "f.csv"

    export_examples(jsonl)
    export_examples(csv_path, fmt="csv")

    names = [field.name for field in export_module.PROVENANCE]
    assert list(_lines(jsonl)[0]["provenance"]) == names
    with csv_path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == names + list(export_module.TEXT_COLUMNS)
