"""import_knowledge: Markdown articles and question-answer pairs, resumable, with a report."""

import json

import pytest
from django.core.management import call_command

from knowledge.models import Article, ArticleStatus, SolvedCase

pytestmark = pytest.mark.django_db

ARTICLE = "---\ntitle: Free disk space\ncategory: disk\n---\nRun `df -h`.\n"


def _run(*paths, capsys) -> dict:
    call_command("import_knowledge", *map(str, paths), "--quiet")
    return json.loads(capsys.readouterr().out)


def test_it_imports_articles_and_cases_and_skips_them_the_second_time(tmp_path, capsys):
    folder = tmp_path / "kb" / "disk"
    folder.mkdir(parents=True)
    (folder / "free-disk-space.md").write_text(ARTICLE)
    (folder / "broken.md").write_text("no front matter here")
    pairs = tmp_path / "train.jsonl"
    pairs.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "disk full, mail me at a@b.example.com"},
                    {"role": "assistant", "content": "Run du -sh *."},
                ]
            }
        )
        + "\n"
        + "not json\n"
    )

    first = _run(tmp_path / "kb", pairs, capsys=capsys)
    second = _run(tmp_path / "kb", pairs, capsys=capsys)

    assert (first["articles"], first["cases"]) == (1, 1)
    assert any("broken.md" in reason for reason in first["skipped"])
    assert first["skipped"]["not a chat line with a question and an answer"] == 1
    assert (second["articles"], second["cases"]) == (0, 0)
    assert second["skipped"]["article unchanged"] == 1
    assert second["skipped"]["case already imported"] == 1
    article = Article.objects.get()
    assert (article.slug, article.status, article.category) == (
        "free-disk-space",
        ArticleStatus.PUBLISHED,
        "disk",
    )
    assert article.passages.count() == 1 and article.revisions.count() == 1
    solved = SolvedCase.objects.get()
    assert "a@b.example.com" not in solved.question and solved.embedding is not None


def test_it_reads_the_seed_csv_layout(tmp_path, capsys):
    seed = tmp_path / "seed.csv"
    seed.write_text('prompt,response\n"User: how do I list files\nAssistant:","Use ls -la."\n')

    report = _run(seed, capsys=capsys)

    assert report["cases"] == 1
    assert SolvedCase.objects.get().question == "how do I list files"


def test_a_missing_path_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Not found"):
        call_command("import_knowledge", str(tmp_path / "nope"))


def test_importing_indexes_here_and_sends_no_task(tmp_path, capsys, monkeypatch):
    sent = []
    monkeypatch.setattr("knowledge.tasks._send", lambda task, arg: sent.append(arg))
    (tmp_path / "a.md").write_text(ARTICLE)

    _run(tmp_path, capsys=capsys)

    assert sent == [] and Article.objects.get().passages.count() == 1


def test_saving_an_article_elsewhere_sends_its_index_task(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("knowledge.tasks._send", lambda task, arg: sent.append((task.name, arg)))

    with django_capture_on_commit_callbacks(execute=True):
        article = Article.objects.create(title="T", slug="t", body="b")

    assert sent == [("knowledge.tasks.index_article", article.pk)]
