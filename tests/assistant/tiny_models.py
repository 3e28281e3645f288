"""Tiny randomly initialised models for tests that need a real architecture, not its size."""

from pathlib import Path


def tiny_qwen2(vocab_size: int, tied: bool = False):
    """Qwen2 (biased q/k/v projections, grouped-query attention), 2 layers of width 64 (the
    narrowest bitsandbytes' CPU 4-bit path multiplies: it quantises in blocks of 64)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=tied,
    )
    return Qwen2ForCausalLM(config)


def save_tiny_qwen2(folder: Path, tokenizer_path: Path) -> Path:
    """A base folder of a random tiny Qwen2 with a real tokenizer (e.g. SmolLM2's, chat
    template and all): it loads, trains and answers like a shipped model, in seconds."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path, local_files_only=True)
    torch.manual_seed(0)
    tiny_qwen2(len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
