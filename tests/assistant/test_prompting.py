"""Prompt building: chat template or plain format, and trimming to fit the context."""

import pytest

from assistant import prompting

SYSTEM = "You are a helpdesk assistant."
HISTORY = [
    {"role": "user", "content": "My wifi drops every hour."},
    {"role": "assistant", "content": "Which Ubuntu version do you run?"},
    {"role": "user", "content": "Ubuntu 22.04 on a ThinkPad."},
]


def _encode(tokenizer, conversation, budget: int, prompt_format: str = "auto") -> str:
    ids = prompting.encode_prompt(
        tokenizer,
        conversation,
        prompt_format=prompt_format,
        system_prompt=SYSTEM,
        max_prompt_tokens=budget,
    )
    assert len(ids) <= budget
    return tokenizer.decode(ids)


def test_it_uses_the_chat_template_with_the_system_prompt_first(chat_tokenizer) -> None:
    prompt = prompting.render_prompt(
        chat_tokenizer, HISTORY, prompt_format="auto", system_prompt=SYSTEM
    )

    assert prompt.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>")
    assert prompt.index("My wifi") < prompt.index("Which Ubuntu") < prompt.index("22.04")
    assert prompt.endswith("<|im_start|>assistant\n")


def test_it_uses_the_seed_plain_format_without_a_chat_template(plain_tokenizer) -> None:
    prompt = prompting.render_prompt(
        plain_tokenizer, HISTORY, prompt_format="auto", system_prompt=SYSTEM
    )

    assert prompt == (
        "User: My wifi drops every hour.\n"
        "Assistant: Which Ubuntu version do you run?\n"
        "User: Ubuntu 22.04 on a ThinkPad.\n"
        "Assistant:"
    )


def test_it_uses_the_plain_format_when_asked_even_with_a_template(chat_tokenizer) -> None:
    prompt = prompting.render_prompt(chat_tokenizer, HISTORY[:1], prompt_format="plain")

    assert prompt == "User: My wifi drops every hour.\nAssistant:"


def test_it_refuses_chat_template_format_without_a_template(plain_tokenizer) -> None:
    with pytest.raises(ValueError, match="no chat template"):
        prompting.render_prompt(plain_tokenizer, HISTORY, prompt_format="chat_template")


def test_it_keeps_the_whole_conversation_when_it_fits(chat_tokenizer) -> None:
    prompt = _encode(chat_tokenizer, HISTORY, budget=1000)

    assert "My wifi" in prompt and "22.04" in prompt


def test_it_drops_the_oldest_turns_first_to_fit(chat_tokenizer) -> None:
    whole = len(_token_ids(chat_tokenizer, HISTORY))
    only_last = len(_token_ids(chat_tokenizer, HISTORY[-1:]))
    assert only_last < whole

    prompt = _encode(chat_tokenizer, HISTORY, budget=whole - 1)

    # The assistant turn goes with the question it answered: history starts with a user.
    assert "My wifi" not in prompt and "Which Ubuntu" not in prompt
    assert prompt.startswith(f"<|im_start|>system\n{SYSTEM}")
    assert "Ubuntu 22.04 on a ThinkPad." in prompt


def test_it_cuts_a_too_long_last_question_from_the_left(plain_tokenizer) -> None:
    question = " ".join(f"word{n}" for n in range(300)) + " why does my disk fill up?"

    prompt = _encode(
        plain_tokenizer, [{"role": "user", "content": question}], budget=40, prompt_format="plain"
    )

    assert prompt.startswith("User: ")
    assert prompt.endswith("why does my disk fill up?\nAssistant:")
    assert "word0 " not in prompt


def test_it_fails_clearly_when_not_even_the_frame_fits(chat_tokenizer) -> None:
    with pytest.raises(prompting.PromptTooLong):
        _encode(chat_tokenizer, HISTORY, budget=5)


def test_it_answers_the_last_user_turn_even_after_a_trailing_answer(plain_tokenizer) -> None:
    conversation = [*HISTORY, {"role": "assistant", "content": "Try a newer kernel."}]

    prompt = _encode(plain_tokenizer, conversation, budget=1000)

    assert prompt.endswith("User: Ubuntu 22.04 on a ThinkPad.\nAssistant:")


def test_it_cuts_a_plain_answer_where_the_model_starts_the_next_user_turn() -> None:
    text = " Restart the network manager.\nUser: thanks\nAssistant: welcome"

    assert prompting.clean_answer(text, plain=True) == "Restart the network manager."
    assert prompting.clean_answer(" Fine.\nUser: x", plain=False) == "Fine.\nUser: x"


def _token_ids(tokenizer, turns) -> list[int]:
    text = prompting.render_prompt(tokenizer, turns, prompt_format="auto", system_prompt=SYSTEM)
    return tokenizer(text, add_special_tokens=False)["input_ids"]
