"""Prompts from conversations: the tokenizer's chat template or the seed's plain format,
trimmed from the oldest turn so the prompt and the answer fit the model's context."""

from collections.abc import Callable
from typing import Any

AUTO = "auto"
CHAT_TEMPLATE = "chat_template"
PLAIN = "plain"
# The seed's students (GPT-Neo, Qwen2 without template) were trained on this wrapper.
PLAIN_ROLES = {"user": "User", "assistant": "Assistant"}
PLAIN_STOP = "\nUser:"

Turn = dict[str, str]


class PromptTooLong(ValueError):
    """Not even the system prompt and a few tokens of the question fit the context."""


def uses_chat_template(tokenizer: Any, prompt_format: str) -> bool:
    if prompt_format == PLAIN:
        return False
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if prompt_format == CHAT_TEMPLATE and not has_template:
        raise ValueError("prompt_format is chat_template but the tokenizer has no chat template")
    if prompt_format not in (AUTO, CHAT_TEMPLATE):
        raise ValueError(f"Unknown prompt_format {prompt_format!r}")
    return has_template


def plain_prompt(turns: list[Turn]) -> str:
    """`User: ...\\nAssistant: ...` turns, ending with `Assistant:` for the model to go on.

    No system prompt: the plain-format students never saw one in training.
    """
    lines = [f"{PLAIN_ROLES[turn['role']]}: {turn['content']}" for turn in turns]
    return "\n".join([*lines, "Assistant:"])


def render_prompt(
    tokenizer: Any, turns: list[Turn], *, prompt_format: str, system_prompt: str = ""
) -> str:
    if not uses_chat_template(tokenizer, prompt_format):
        return plain_prompt(turns)
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.extend({"role": turn["role"], "content": turn["content"]} for turn in turns)
    prompt: str = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    return prompt


def encode_prompt(
    tokenizer: Any,
    conversation: list[Turn],
    *,
    prompt_format: str,
    system_prompt: str = "",
    max_prompt_tokens: int,
) -> list[int]:
    """Token ids of the prompt for the conversation's last user turn.

    Older turns are dropped first (a kept history always starts with a user turn); the
    last user turn is always kept, cut from the left (its end is the question) if alone it
    is too long.
    """
    turns = _up_to_last_user_turn(conversation)
    chat = uses_chat_template(tokenizer, prompt_format)

    def encode(kept: list[Turn]) -> list[int]:
        text = render_prompt(
            tokenizer, kept, prompt_format=prompt_format, system_prompt=system_prompt
        )
        # A chat template writes its own special tokens; the plain format gets the
        # tokenizer's usual ones (a BOS for Llama-like tokenizers, none for GPT-2's).
        ids: list[int] = tokenizer(text, add_special_tokens=not chat)["input_ids"]
        return ids

    last = len(turns) - 1
    for start in _history_starts(turns):
        ids = encode(turns[start:])
        if len(ids) <= max_prompt_tokens:
            return ids
    return _cut_question(tokenizer, turns[last], encode, max_prompt_tokens)


def _up_to_last_user_turn(conversation: list[Turn]) -> list[Turn]:
    for index in range(len(conversation) - 1, -1, -1):
        if conversation[index]["role"] == "user":
            return [turn for turn in conversation[: index + 1] if turn["role"] in PLAIN_ROLES]
    raise ValueError("The conversation has no user turn to answer")


def _history_starts(turns: list[Turn]) -> list[int]:
    """Where the kept history may start, longest first: at each user turn."""
    return [index for index, turn in enumerate(turns) if turn["role"] == "user"]


def _cut_question(
    tokenizer: Any,
    question: Turn,
    encode: Callable[[list[Turn]], list[int]],
    max_prompt_tokens: int,
) -> list[int]:
    frame = len(encode([{"role": "user", "content": ""}]))
    content_ids = tokenizer(question["content"], add_special_tokens=False)["input_ids"]
    room = max_prompt_tokens - frame
    # Decoding a cut and encoding it again can merge tokens differently: shrink until it fits.
    while room > 0:
        kept = tokenizer.decode(content_ids[-room:], skip_special_tokens=True)
        ids = encode([{"role": "user", "content": kept}])
        if len(ids) <= max_prompt_tokens:
            return ids
        room -= max(1, len(ids) - max_prompt_tokens)
    raise PromptTooLong(
        f"The prompt frame alone takes {frame} tokens; the limit is {max_prompt_tokens}"
    )


def clean_answer(text: str, *, plain: bool) -> str:
    """The answer as shown: a plain-format model goes on to write the user's next turn."""
    if plain:
        text = text.split(PLAIN_STOP, 1)[0]
    return text.strip()
