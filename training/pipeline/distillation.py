"""Distillation: a teacher LM answers helpdesk questions into a resumable chat JSONL.

Prompts come from whole dialogues (the context before the opening question, then the
question) or from a chat JSONL. Output is appended and fsync'ed one batch at a time;
a rerun skips the ids already written and cuts a torn last line first, so an interrupted
run resumes with no duplicate and no lost row.

    python manage.py distill --teacher var/models/SmolLM2-135M-Instruct \
        --prompts /work/shared/data/udc/ubuntu_context_1000.csv --out var/data/distilled.jsonl
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .curation import dialogue_questions

DEFAULT_MAX_NEW_TOKENS = 512  # high enough that few answers are cut (the seed's 128 cut 63%)


@dataclass
class DistillConfig:
    teacher_path: str  # folder of any HF causal LM
    prompts_path: str  # UDC dialogues CSV or chat JSONL
    out_path: str  # chat JSONL, appended to
    batch_size: int = 8  # questions per generate() call
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS  # answers reaching it are flagged truncated
    limit: int = 0  # questions to answer in all, this run and earlier ones (0 = all)
    prompt_format: str = "auto"  # chat template if the teacher has one
    system_prompt: str = "You are a helpful Ubuntu and IT support expert. Answer concretely."
    torch_threads: int = 1  # CPU threads


@dataclass
class Question:
    id: str
    messages: list[dict[str, str]]  # what the teacher sees, ending with the user's turn
    dialogue_id: str | None
    row: int


AfterBatch = Callable[[int, list[dict[str, Any]]], None]  # (batch number, rows written)


def read_questions(path: str | Path) -> list[Question]:
    if str(path).endswith(".csv"):
        return [
            Question(
                id=f"udc:{q.dialogue_id}",
                messages=[{"role": "user", "content": "\n".join([*q.context, q.question])}],
                dialogue_id=q.dialogue_id,
                row=q.row,
            )
            for q in dialogue_questions(path)
        ]
    questions = []
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            record = json.loads(line)
            messages = record["messages"]
            if messages[-1]["role"] == "assistant":
                messages = messages[:-1]
            row = record.get("row", i)
            questions.append(
                Question(
                    id=record.get("id") or f"{record.get('source', 'jsonl')}:{row}",
                    messages=messages,
                    dialogue_id=record.get("dialogue_id"),
                    row=row,
                )
            )
    return questions


def done_ids(out_path: str | Path) -> set[str]:
    """Ids already answered; a torn last line (a crash mid-write) is cut off the file."""
    path = Path(out_path)
    if not path.exists():
        return set()
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) != len(data):
        with open(path, "r+b") as f:
            f.truncate(len(complete))
            f.flush()
            os.fsync(f.fileno())
    ids = set()
    for line in complete.decode("utf-8").splitlines():
        if line.strip():
            ids.add(json.loads(line)["id"])
    return ids


def append_batch(out_path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Written and fsync'ed as a whole, so a crash loses at most the batch in progress."""
    with open(out_path, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        f.flush()
        os.fsync(f.fileno())


def pending_questions(config: DistillConfig) -> list[Question]:
    questions = read_questions(config.prompts_path)
    if config.limit:
        questions = questions[: config.limit]
    done = done_ids(config.out_path)
    return [q for q in questions if q.id not in done]


class Teacher:
    """A causal LM answering batches greedily, telling which answers hit the token limit."""

    def __init__(self, config: DistillConfig) -> None:
        from .finetune import TrainConfig, load_base_model, load_tokenizer, pick_device

        device, dtype = pick_device(
            TrainConfig(
                base_model_path=config.teacher_path,
                train_path="",
                validation_path="",
                out_dir="",
                torch_threads=config.torch_threads,
            )
        )
        self.config = config
        self.device = device
        self.tokenizer = load_tokenizer(config.teacher_path)
        self.model = load_base_model(config.teacher_path, device, dtype)
        self.model.eval()

    def answer(self, questions: list[Question]) -> list[tuple[str, bool, int]]:
        """(text, truncated, generated tokens) for each question."""
        import torch

        from .finetune import render_prompt

        prompts = [
            render_prompt(
                self.tokenizer, q.messages, self.config.system_prompt, self.config.prompt_format
            )
            for q in questions
        ]
        self.tokenizer.padding_side = "left"  # every row's next token is the last column
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            output = self.model.generate(
                **batch,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                max_new_tokens=self.config.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        results = []
        for row in output[:, batch["input_ids"].shape[1] :].tolist():
            length = next((i for i, t in enumerate(row) if t in eos_ids), len(row))
            text = self.tokenizer.decode(row[:length], skip_special_tokens=True).strip()
            # No end-of-sequence token before the limit: the teacher was cut off.
            results.append((text, length >= self.config.max_new_tokens, length))
        return results


def distill(
    config: DistillConfig, teacher: Teacher | None = None, after_batch: AfterBatch | None = None
) -> dict[str, int]:
    """Answer every pending question; returns how many were answered and skipped."""
    from tqdm.auto import tqdm

    all_questions = len(read_questions(config.prompts_path))
    pending = pending_questions(config)
    skipped = (min(all_questions, config.limit) if config.limit else all_questions) - len(pending)
    if not pending:
        return {"answered": 0, "skipped": skipped, "truncated": 0}
    teacher = teacher or Teacher(config)
    settings = {
        k: v
        for k, v in asdict(config).items()
        if k in ("max_new_tokens", "prompt_format", "system_prompt")
    }
    settings["decoding"] = "greedy"
    answered = truncated = 0
    bar = tqdm(total=len(pending), desc="distill", unit="question")
    for number, start in enumerate(range(0, len(pending), config.batch_size)):
        questions = pending[start : start + config.batch_size]
        rows = [
            _row(q, text, cut, tokens, config.teacher_path, settings)
            for q, (text, cut, tokens) in zip(questions, teacher.answer(questions), strict=True)
        ]
        append_batch(config.out_path, rows)
        answered += len(rows)
        truncated += sum(r["truncated"] for r in rows)
        bar.update(len(rows))
        if after_batch:
            after_batch(number, rows)
    bar.close()
    return {"answered": answered, "skipped": skipped, "truncated": truncated}


def _row(
    question: Question,
    text: str,
    truncated: bool,
    tokens: int,
    teacher_path: str,
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": question.id,
        "messages": [*question.messages, {"role": "assistant", "content": text}],
        "source": "distilled",
        "dialogue_id": question.dialogue_id,
        "row": question.row,
        "teacher": Path(teacher_path).name,
        "teacher_path": str(teacher_path),
        "settings": settings,
        "answer_tokens": tokens,
        "truncated": truncated,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
