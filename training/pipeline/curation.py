"""Curation of question/answer pairs into clean, de-duplicated, leak-free chat splits.

Rules, each in one function below:

- empty answer: nothing but whitespace.
- truncated answer (`is_truncated_answer`): the teacher stopped at its token limit
  mid-sentence. An answer counts as finished only when its last character is sentence-final
  punctuation (. ! ?), a closing bracket or quote, a code fence or an emoji-free symbol
  that ends a command (`). Answers ending in a word, a comma, a colon ("Here are the
  steps:") or a list marker are cut. A row that says `truncated: true` is cut whatever it ends in.
- chatter prompt (`is_chatter`): fewer than 12 characters or 3 words; or only a greeting,
  a thank-you or an acknowledgement; or no question at all: no "?", no question word
  at the start of a sentence, and no problem report ("error", "can't", "doesn't work", ...).
- exact duplicate: the same normalised prompt (lower case, punctuation and extra spaces
  removed) as an earlier row.
- near duplicate: token-set Jaccard similarity >= NEAR_DUPLICATE_JACCARD with an earlier
  kept row, found with MinHash signatures and locality-sensitive hashing (band buckets),
  then confirmed with the exact Jaccard, so the 25,000-row seed takes seconds.

Splits are 70/15/15 over group keys (the dialogue id, else the normalised prompt), shuffled
with a seed, so no dialogue and no prompt lands in two splits.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NEAR_DUPLICATE_JACCARD = 0.8  # token sets this similar say the same thing in other words
MINHASH_PERMUTATIONS = 64  # 8 bands x 8 rows: pairs at Jaccard 0.8 collide with p ~ 0.94
LSH_BANDS = 8
MIN_PROMPT_CHARS = 12
MIN_PROMPT_WORDS = 3
MAX_REPLY_LINES = 5  # a human reply in IRC is a few short lines; more is a new topic
SPLIT_SHARES = {"train": 0.70, "validation": 0.15, "test": 0.15}

_FINISHED_ENDINGS = tuple(".!?)]}\"'`*>") + ("```",)
_QUESTION_START = re.compile(
    r"(?:^|[.!?]\s+)(?:how|what|why|where|when|which|who|whom|whose|is|are|am|was|were|"
    r"can|could|does|do|did|should|would|will|has|have|anyone|anybody|any|shall|may|"
    r"might|isn't|doesn't|don't|can't|won't)\b",
    re.IGNORECASE,
)
_PROBLEM_REPORT = re.compile(
    r"\b(?:error|errors|fail(?:s|ed|ing)?|can't|cannot|can not|couldn't|won't|doesn't|"
    r"does not|isn't working|not working|broken|crash(?:es|ed)?|problem|issue|help|"
    r"trying to|need to|how to|unable)\b",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^(?:(?:hi|hello|hey|heya|hiya|yo|morning|good (?:morning|evening|night|afternoon)|"
    r"thanks?|thank you|thx|ty|cheers|ok(?:ay)?|k|yes|yeah|yep|no|nope|lol|haha|bye|"
    r"cool|nice|great|sure|right|all|everyone|folks|guys|people|again|so much|a lot|"
    r"man|dude|mate|there|much|very)\W*)+$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+(?:['._-][a-z0-9]+)*")


@dataclass
class Candidate:
    """One question with its answer, before the filters."""

    prompt: str
    response: str
    source: str
    row: int
    dialogue_id: str | None = None
    context: list[str] = field(default_factory=list)  # earlier utterances, oldest first
    truncated: bool | None = None  # known from the distiller; None when not recorded
    from_teacher: bool = True  # a people's reply has no token limit to be cut by

    def user_content(self) -> str:
        return "\n".join([*self.context, self.prompt])

    def group_key(self) -> str:
        return (
            f"dialogue:{self.dialogue_id}"
            if self.dialogue_id
            else f"prompt:{normalise(self.prompt)}"
        )

    def as_chat(self) -> dict[str, Any]:
        return {
            "messages": [
                {"role": "user", "content": self.user_content()},
                {"role": "assistant", "content": self.response.strip()},
            ],
            "source": self.source,
            "dialogue_id": self.dialogue_id,
            "row": self.row,
        }


@dataclass
class DialogueQuestion:
    """The opening question of a UDC dialogue, what came before it, and the human reply."""

    dialogue_id: str
    row: int
    context: list[str]
    question: str
    reply: str


# --- reading ------------------------------------------------------------------------


def read_seed_csv(path: str | Path) -> list[Candidate]:
    """The seed's distilled `prompt,response` CSV; prompts are wrapped as `User: ...\\nAssistant:`."""
    with open(path, encoding="utf-8", newline="") as f:
        return [
            Candidate(
                prompt=unwrap_seed_prompt(r["prompt"]),
                response=r["response"] or "",
                source="seed",
                row=i,
            )
            for i, r in enumerate(csv.DictReader(f))
        ]


def unwrap_seed_prompt(prompt: str) -> str:
    text = prompt.strip()
    text = text.removeprefix("User:").strip()
    return text.removesuffix("Assistant:").strip()


def read_dialogues(path: str | Path) -> dict[str, list[dict[str, str]]]:
    """UDC rows (`,dialogueID,date,from,to,text`) grouped by dialogue, in date order."""
    dialogues: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(path, encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            r["_row"] = str(i)
            dialogues[r["dialogueID"]].append(r)
    for rows in dialogues.values():
        rows.sort(key=lambda r: (r["date"], int(r["_row"])))  # stable for same-minute lines
    return dict(dialogues)


def dialogue_questions(path: str | Path) -> list[DialogueQuestion]:
    """Per dialogue, the first utterance that asks something, with the lines before it as
    context and the other speakers' lines up to the asker's next turn as the reply."""
    found = []
    for dialogue_id, rows in read_dialogues(path).items():
        for i, r in enumerate(rows):
            text = (r["text"] or "").strip()
            if not is_chatter(text):
                asker = r["from"]
                context = [(c["text"] or "").strip() for c in rows[:i] if (c["text"] or "").strip()]
                found.append(
                    DialogueQuestion(
                        dialogue_id=dialogue_id,
                        row=int(r["_row"]),
                        context=context,
                        question=text,
                        reply=_reply_after(rows[i + 1 :], asker),
                    )
                )
                break
    return found


def _reply_after(rows: list[dict[str, str]], asker: str) -> str:
    """The first helper's lines to the asker, until the asker speaks again: third parties'
    lines in a shared channel are someone else's conversation."""
    helper = next((r["from"] for r in rows if r["from"] != asker and r["to"] == asker), None)
    helper = helper or next((r["from"] for r in rows if r["from"] != asker), None)
    lines: list[str] = []
    for r in rows:
        if r["from"] == asker and lines:
            break
        if r["from"] == helper and (r["text"] or "").strip():
            lines.append(r["text"].strip())
        if len(lines) >= MAX_REPLY_LINES:
            break
    return "\n".join(lines)


def read_dialogue_candidates(path: str | Path) -> list[Candidate]:
    return [
        Candidate(
            prompt=q.question,
            response=q.reply,
            source="udc",
            row=q.row,
            dialogue_id=q.dialogue_id,
            context=q.context,
            from_teacher=False,
        )
        for q in dialogue_questions(path)
    ]


def read_chat_candidates(path: str | Path) -> list[Candidate]:
    """Rows already in chat JSONL (the distiller's output): their `truncated` flag is kept."""
    candidates = []
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            record = json.loads(line)
            user, answer = record["messages"][-2]["content"], record["messages"][-1]["content"]
            candidates.append(
                Candidate(
                    prompt=user,
                    response=answer,
                    source=record.get("source", "distilled"),
                    row=record.get("row", i),
                    dialogue_id=record.get("dialogue_id"),
                    truncated=record.get("truncated"),
                )
            )
    return candidates


# --- rules --------------------------------------------------------------------------


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def is_truncated_answer(response: str, truncated_flag: bool | None = None) -> bool:
    if truncated_flag:
        return True
    return not response.rstrip().endswith(_FINISHED_ENDINGS)


def is_chatter(prompt: str) -> bool:
    text = prompt.strip()
    if len(text) < MIN_PROMPT_CHARS or len(_WORD.findall(text.lower())) < MIN_PROMPT_WORDS:
        return True
    if _SMALL_TALK.match(text):
        return True
    asks = "?" in text or _QUESTION_START.search(text) or _PROBLEM_REPORT.search(text)
    return not asks


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDuplicateIndex:
    """MinHash + LSH over token sets: candidates share a band, the exact Jaccard decides."""

    _PRIME = (1 << 61) - 1

    def __init__(self, bar: float = NEAR_DUPLICATE_JACCARD, seed: int = 1) -> None:
        import numpy as np

        self.bar = bar
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, self._PRIME, MINHASH_PERMUTATIONS, dtype=np.uint64)
        self._b = rng.integers(0, self._PRIME, MINHASH_PERMUTATIONS, dtype=np.uint64)
        self._buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        self._sets: list[set[str]] = []

    def _signature(self, token_set: set[str]) -> Any:
        import numpy as np

        hashes = np.array([zlib.crc32(t.encode()) for t in sorted(token_set)], dtype=np.uint64)
        # Values stay below 2**32 * 2**61: uint64 wraps, which is still a fine hash family.
        mixed = (self._a[:, None] * hashes[None, :] + self._b[:, None]) % np.uint64(self._PRIME)
        return mixed.min(axis=1)

    def _bands(self, token_set: set[str]) -> list[tuple[int, bytes]]:
        signature = self._signature(token_set)
        width = MINHASH_PERMUTATIONS // LSH_BANDS
        return [(b, signature[b * width : (b + 1) * width].tobytes()) for b in range(LSH_BANDS)]

    def add_unless_near(self, token_set: set[str]) -> bool:
        """Add the set and return True, or return False when a near duplicate is already in."""
        if not token_set:
            return True
        bands = self._bands(token_set)
        seen: set[int] = set()
        for key in bands:
            for other in self._buckets.get(key, ()):
                if other not in seen:
                    seen.add(other)
                    if jaccard(token_set, self._sets[other]) >= self.bar:
                        return False
        index = len(self._sets)
        self._sets.append(token_set)
        for key in bands:
            self._buckets[key].append(index)
        return True


# --- the pipeline -------------------------------------------------------------------


def curate(candidates: Iterable[Candidate]) -> tuple[list[Candidate], dict[str, int]]:
    """Apply every filter in order; returns the kept rows and how many each filter removed."""
    removed = {
        "empty_answer": 0,
        "truncated_answer": 0,
        "chatter_prompt": 0,
        "exact_duplicate": 0,
        "near_duplicate": 0,
    }
    kept: list[Candidate] = []
    seen_exact: set[str] = set()
    near = NearDuplicateIndex()
    for c in candidates:
        if not c.response.strip():
            removed["empty_answer"] += 1
        elif c.from_teacher and is_truncated_answer(c.response, c.truncated):
            removed["truncated_answer"] += 1
        elif is_chatter(c.prompt):
            removed["chatter_prompt"] += 1
        elif (key := normalise(c.user_content())) in seen_exact:
            removed["exact_duplicate"] += 1
        elif not near.add_unless_near(tokens(c.user_content())):
            removed["near_duplicate"] += 1
        else:
            seen_exact.add(key)
            kept.append(c)
    return kept, removed


def split(candidates: list[Candidate], seed: int = 69) -> dict[str, list[Candidate]]:
    """70/15/15 by group key: the same seed and rows always give the same splits."""
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[c.group_key()].append(c)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_train = round(len(keys) * SPLIT_SHARES["train"])
    n_validation = round(len(keys) * SPLIT_SHARES["validation"])
    cuts = {
        "train": keys[:n_train],
        "validation": keys[n_train : n_train + n_validation],
        "test": keys[n_train + n_validation :],
    }
    return {name: [c for k in part for c in groups[k]] for name, part in cuts.items()}


def curate_to_dir(
    out_dir: str | Path,
    seed_csv: str | Path | None = None,
    dialogues_csv: str | Path | None = None,
    chat_jsonl: str | Path | None = None,
    limit: int = 0,
    seed: int = 69,
) -> dict[str, Any]:
    """Read the sources, filter, split, write train/validation/test JSONL and report.json."""
    started = time.monotonic()
    candidates: list[Candidate] = []
    read: dict[str, int] = {}
    sources = [
        (seed_csv, read_seed_csv),
        (dialogues_csv, read_dialogue_candidates),
        (chat_jsonl, read_chat_candidates),
    ]
    for path, reader in sources:
        if path:
            rows = reader(path)
            rows = rows[:limit] if limit else rows
            read[str(path)] = len(rows)
            candidates.extend(rows)
    kept, removed = curate(candidates)
    splits = split(kept, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        write_jsonl(out / f"{name}.jsonl", (c.as_chat() for c in rows))
    report = {
        "read": read,
        "rows_in": len(candidates),
        "removed": removed,
        "kept": len(kept),
        "splits": {name: len(rows) for name, rows in splits.items()},
        "seed": seed,
        "near_duplicate_jaccard": NEAR_DUPLICATE_JACCARD,
        "seconds": round(time.monotonic() - started, 2),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)
