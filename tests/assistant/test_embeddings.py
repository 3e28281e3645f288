"""MiniLM sentence embeddings: unit float32 rows, in either CPU precision."""

import pytest

from assistant.embeddings import embed_array

TEXTS = [
    "How do I see which process is using port 8080?",
    "Run `sudo ss -ltnp | grep :8080` to see the process holding the port.",
    "My wifi stops working after suspend on Ubuntu 22.04",
]


def _embedded(monkeypatch: pytest.MonkeyPatch, bf16: str):
    monkeypatch.setenv("ASSISTANT_CPU_BF16", bf16)
    return embed_array(TEXTS)


def test_bfloat16_embeddings_give_the_float32_cosines_within_a_hair(monkeypatch) -> None:
    import numpy as np

    full, half = _embedded(monkeypatch, "0"), _embedded(monkeypatch, "1")

    for vectors in (full, half):
        assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(full, half)  # really computed in another precision
    assert np.abs(full @ full.T - half @ half.T).max() < 0.005


def test_each_text_keeps_its_own_row_whatever_the_order_it_was_embedded_in(monkeypatch) -> None:
    import numpy as np

    monkeypatch.setenv("ASSISTANT_CPU_BF16", "0")
    texts = [TEXTS[1] * 3, TEXTS[2], "ok", TEXTS[0]]  # longest first: embedded last

    together = embed_array(texts)
    alone = np.stack([embed_array([text])[0] for text in texts])

    assert np.allclose(together, alone, atol=1e-5)
