from knowledge.passages import cut


def test_it_packs_paragraphs_into_passages_led_by_the_title() -> None:
    body = "\n\n".join(f"Step {i}: " + "word " * 40 for i in range(4))

    passages = cut("Install a .deb file", body, words=90)

    assert len(passages) == 2
    assert all(p.startswith("Install a .deb file\n") for p in passages)
    assert "Step 0" in passages[0] and "Step 3" in passages[1]


def test_a_short_article_is_one_passage() -> None:
    assert cut("Title", "One line.") == ["Title\nOne line."]
