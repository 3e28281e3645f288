"""The red-team corpus: nothing of a secret left, ordinary IT text untouched, and an export
of the probe's leaks that holds none of them."""

import json

import pytest

from tests.feedback.helpers import make_example
from tests.feedback.redaction_corpus import KEEP, LEAKS, MAPPED
from training.feedback.export import export_examples
from training.feedback.redaction import KINDS, RedactionReport, redact


@pytest.mark.parametrize(
    ("kind", "text", "secrets"), LEAKS, ids=[f"{n}-{kind}" for n, (kind, *_) in enumerate(LEAKS)]
)
def test_no_part_of_a_secret_is_left(kind, text, secrets):
    report = RedactionReport()

    redacted = redact(text, report)

    assert [secret for secret in secrets if secret in redacted] == []
    assert report.counts[kind] >= 1


@pytest.mark.parametrize("text", KEEP)
def test_ordinary_it_text_comes_out_unchanged(text):
    report = RedactionReport()

    assert redact(text, report) == text
    assert report.total == 0


@pytest.mark.parametrize(("text", "expected"), MAPPED)
def test_an_ipv6_address_with_an_ipv4_in_it_is_one_address(text, expected):
    assert redact(text) == expected


def test_the_corpus_covers_every_kind_with_150_cases():
    assert {kind for kind, _text, _secrets in LEAKS} == set(KINDS)
    assert all(secrets for _kind, _text, secrets in LEAKS)
    assert len(LEAKS) + len(KEEP) + len(MAPPED) >= 150


@pytest.mark.django_db
def test_the_export_holds_none_of_the_leaks_the_probe_found(tmp_path):
    make_example(
        question='My config is {"password": "hunter2"} and the .env has DB_PASSWORD=s3cr3t!',
        correction="Never paste the card 4111 1111 1111 1111 here.",
        context=[
            {"role": "user", "content": "curl sends Authorization: Basic dXNlcjpwYXNzd29yZA=="}
        ],
    )
    out = tmp_path / "probe.jsonl"

    export = export_examples(out)

    written = out.read_text()
    for leak in (
        '{"password": "hunter2"}',
        "hunter2",
        "DB_PASSWORD=s3cr3t!",
        "s3cr3t!",
        "4111 1111 1111 1111",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "dXNlcjpwYXNzd29yZA==",
    ):
        assert leak not in written
        assert json.dumps(leak)[1:-1] not in written  # nor as JSON writes it
    counts = export.redaction_report["counts"]
    assert (counts["PASSWORD"], counts["CARD"], counts["SECRET"]) == (2, 1, 1)
