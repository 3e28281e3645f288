"""Fixtures of the assistant's tests: the shipped SmolLM2 folder and its tokenizer."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    from django.conf import settings

    from assistant.prepare import ensure_smollm2

    return ensure_smollm2(settings.MODELS_DIR)


@pytest.fixture(scope="session")
def chat_tokenizer(smollm2_path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)


@pytest.fixture(scope="session")
def plain_tokenizer(smollm2_path: Path):
    """The same vocabulary without a chat template, like GPT-Neo's tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)
    tokenizer.chat_template = None
    return tokenizer
