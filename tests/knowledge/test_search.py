"""Exact search with the real MiniLM: paraphrases find their article, changes are seen at once."""

import pytest

from knowledge.models import Article, ArticleStatus, IndexVersion
from knowledge.search import current_matrix, search

from .helpers import case, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    return [
        published("Install a .deb file from the terminal", "Run `sudo apt install ./file.deb`."),
        published("See which process uses a port", "Run `sudo ss -ltnp | grep :8080`."),
        published(
            "Wi-Fi stops after suspend", "Restart it: `sudo systemctl restart NetworkManager`."
        ),
    ]


def test_a_question_in_other_words_finds_its_article(articles) -> None:
    [hits] = search(["how do i know what program is listening on port 8080"], k=2)

    assert hits[0].kind == "article" and hits[0].article_id == articles[1].pk
    assert hits[0].score > hits[1].score
    assert "ss -ltnp" in hits[0].text


def test_a_solved_case_is_found_by_its_question(articles) -> None:
    solved = case("printer shows offline on Ubuntu", "Run `sudo systemctl restart cups`.")

    [hits] = search(["my printer says it is offline"], k=1)

    assert (hits[0].kind, hits[0].ref_id) == ("case", solved.pk)
    assert hits[0].text.startswith("Q: printer shows offline")


def test_an_article_hit_carries_its_passages_vector_from_the_index(articles) -> None:
    import numpy as np

    from knowledge.models import Passage

    solved = case("printer shows offline on Ubuntu", "Run `sudo systemctl restart cups`.")
    [[by_article], [by_case]] = search(
        ["which program listens on port 8080", "printer offline"], k=1
    )

    stored = Passage.objects.get(pk=by_article.ref_id).embedding
    assert np.array_equal(by_article.vector, np.frombuffer(stored, dtype=np.float32))
    # A case's index vector is its question's, not its text's: the gate embeds the text.
    assert (by_case.ref_id, by_case.vector) == (solved.pk, None)


def test_the_matrix_reloads_when_the_knowledge_changes(articles) -> None:
    before = current_matrix()
    published("Connect to the VPN", "Open Settings > Network > VPN and switch it on.", slug="vpn")

    after = current_matrix()

    assert after.version == IndexVersion.current() > before.version
    assert len(after.ids) > len(before.ids)


def test_an_unpublished_article_leaves_the_index(articles) -> None:
    from knowledge.index import index_article

    Article.objects.filter(pk=articles[0].pk).update(status=ArticleStatus.DRAFT)
    index_article(articles[0].pk)

    [hits] = search(["install a deb package"], k=3)
    assert articles[0].pk not in {h.article_id for h in hits}


def test_an_empty_index_finds_nothing() -> None:
    assert search(["anything"], k=3) == [[]]


def test_past_the_exact_limit_the_ivf_index_finds_what_exact_search_finds() -> None:
    import numpy as np

    from knowledge.search import ARTICLE, _Matrix, rank, with_index

    rng = np.random.default_rng(1)
    topics = rng.standard_normal((40, 384)).astype(np.float32)
    vectors = topics[rng.integers(0, 40, 4000)] + 0.05 * rng.standard_normal((4000, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    matrix = _Matrix(1, vectors, np.full(4000, ARTICLE, dtype=np.int8), np.arange(4000))
    queries = vectors[:20]

    exact = rank(queries, 1, matrix)
    indexed = with_index(_Matrix(1, vectors, matrix.kinds, matrix.ids), exact_limit=100)

    assert indexed.index is not None and matrix.index is None

    def ids(found):
        return [[(hit.kind, hit.pk) for hit in row] for row in found]

    assert ids(rank(queries, 1, indexed)) == ids(exact) == [[(ARTICLE, i)] for i in range(20)]
