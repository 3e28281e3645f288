"""Teacher-forced answer loss: label masking, padding, the loss by hand, through the loader."""

import math
from pathlib import Path

import pytest

from assistant.engine import ModelSpec
from assistant.scoring import (
    IGNORE_INDEX,
    EncodedExample,
    answer_loss,
    collate,
    conversation_loss,
    encode_example,
    summed_nll,
)

from .tiny_models import tiny_qwen2


def chat(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_it_masks_prompt_and_padding_out_of_the_labels() -> None:
    short = EncodedExample(input_ids=[5, 6, 7], labels=[IGNORE_INDEX, 6, 7])
    long = EncodedExample(input_ids=[5, 6, 7, 8, 9], labels=[IGNORE_INDEX] * 3 + [8, 9])
    batch = collate([short, long], pad_token_id=9)
    assert batch["labels"].tolist() == [
        [IGNORE_INDEX, 6, 7, IGNORE_INDEX, IGNORE_INDEX],
        [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 8, 9],
    ]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    # The pad id equals a real answer token (9): only padding is masked, by position.
    assert batch["input_ids"].tolist()[0] == [5, 6, 7, 9, 9]


def test_it_labels_only_the_answer_and_its_end_of_turn(chat_tokenizer) -> None:
    example = encode_example(
        chat_tokenizer, chat("How do I restart the network?", "Run sudo systemctl restart it."), 128
    )
    labelled = [t for t in example.labels if t != IGNORE_INDEX]
    prompt_length = example.labels.index(labelled[0])
    assert all(t == IGNORE_INDEX for t in example.labels[:prompt_length])
    assert example.input_ids[prompt_length:] == labelled
    text = chat_tokenizer.decode(labelled)
    assert text.startswith("Run sudo systemctl") and "<|im_end|>" in text
    assert "How do I restart" not in text


def test_it_cuts_long_answers_and_skips_prompts_that_leave_no_room(chat_tokenizer) -> None:
    long_answer = encode_example(chat_tokenizer, chat("Why?", "word " * 200), max_length=60)
    assert len(long_answer.input_ids) == 60
    assert encode_example(chat_tokenizer, chat("why " * 100, "Because."), max_length=40) is None


def test_it_uses_the_plain_format_when_asked(chat_tokenizer) -> None:
    example = encode_example(chat_tokenizer, chat("Hi there?", "Hello."), 64, prompt_format="plain")
    prompt = chat_tokenizer.decode(
        [
            t
            for t, label in zip(example.input_ids, example.labels, strict=True)
            if label == IGNORE_INDEX
        ]
    )
    assert prompt.endswith("User: Hi there?\nAssistant:")


def test_it_computes_the_answer_loss_on_labelled_tokens_only() -> None:
    import torch

    # Two-token vocabulary. Position 0 predicts token 1 (prompt, masked); position 1
    # predicts token 2 with p = 1/2 (equal logits); position 2 predicts token 3 with
    # p = e^2 / (1 + e^2).
    logits = torch.tensor([[[9.0, -9.0], [0.0, 0.0], [0.0, 2.0], [5.0, 5.0]]])
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 0, 1]])
    nll, tokens = summed_nll(logits, labels)
    expected = math.log(2) + -math.log(math.exp(2) / (1 + math.exp(2)))
    assert tokens == 2
    assert nll.item() == pytest.approx(expected, rel=1e-5)
    # Perplexity of this tiny case: exp of the mean NLL per answer token.
    assert math.exp(nll.item() / tokens) == pytest.approx(math.exp(expected / 2), rel=1e-5)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, smollm2_path: Path) -> Path:
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny") / "qwen2"
    tiny_qwen2(len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_served_model_scores_answers_as_a_fresh_one_does(tiny_base: Path) -> None:
    from assistant.loading import load_causal_lm, load_spec
    from training.pipeline.finetune import load_tokenizer

    spec = ModelSpec(key="1", base_model_path=str(tiny_base), system_prompt="Be brief.")
    conversations = [chat("Disk full?", "Run df -h."), chat("Wifi?", "Restart the router.")]

    loss, tokens = conversation_loss(load_spec(spec), spec, conversations)

    tokenizer = load_tokenizer(str(tiny_base))
    encoded = [encode_example(tokenizer, c, 512, "Be brief.") for c in conversations]
    fresh = load_causal_lm(str(tiny_base), trainable=True)
    expected, expected_tokens = answer_loss(fresh, encoded, 1, tokenizer.pad_token_id)
    assert tokens == expected_tokens > 0
    assert loss == pytest.approx(expected, rel=1e-4)
