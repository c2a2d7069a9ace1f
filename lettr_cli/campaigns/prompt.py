"""`campaign create --prompt`: start from the earlier campaign most like what the operator wants.

Earlier campaigns are ranked by TF-IDF cosine similarity of their name, subject and preview
text to the prompt (ties go to the most recent); the best match lends its sender. The name is
seeded from the prompt, and a subject is offered from its key phrases. Local and deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lettr_cli.store.tables import Campaign

NAME_LIMIT = 80
SUBJECT_LIMIT = 120
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset(
    (  # noqa: SIM905 (a sentence of words reads better than a column of them)
        "a an and are as at be but by for from has have i in is it its of on or our the this to "
        "us we with you your about all new now get just more"
    ).split()
)


@dataclass(frozen=True)
class Suggestion:
    name: str
    subject: str
    match: Campaign | None
    score: float


def words(text: str) -> list[str]:
    return [w for w in (m.group(0).casefold() for m in _WORD.finditer(text)) if w not in STOP_WORDS]


def _document(campaign: Campaign) -> list[str]:
    return words(" ".join(filter(None, (campaign.name, campaign.subject, campaign.preview_text))))


def _vector(terms: Sequence[str], idf: dict[str, float]) -> dict[str, float]:
    counts = Counter(terms)
    return {t: (n / len(terms)) * idf.get(t, 0.0) for t, n in counts.items()} if terms else {}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(t, 0.0) for t, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def rank(prompt: str, campaigns: Sequence[Campaign]) -> list[tuple[Campaign, float]]:
    """Earlier campaigns by similarity to ``prompt``, best first; ties to the most recent."""
    documents = [_document(c) for c in campaigns]
    query = words(prompt)
    total = len(documents) + 1
    frequency = Counter(t for doc in [*documents, query] for t in set(doc))
    idf = {t: math.log(total / n) + 1.0 for t, n in frequency.items()}
    wanted = _vector(query, idf)
    scored = [
        (c, _cosine(wanted, _vector(d, idf))) for c, d in zip(campaigns, documents, strict=True)
    ]
    return sorted(scored, key=lambda item: (-round(item[1], 9), -item[0].created_at.timestamp()))


def key_phrases(prompt: str, limit: int = 6) -> list[str]:
    """The prompt's content words in order, without repeats."""
    return list(
        dict.fromkeys(
            m.group(0) for m in _WORD.finditer(prompt) if m.group(0).casefold() not in STOP_WORDS
        )
    )[:limit]


def cut_at_word(text: str, limit: int) -> str:
    """``text`` (its spaces collapsed) up to its last whole word within ``limit`` characters;
    empty when even the first word is longer."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # a space just past the limit still ends a whole word
    return head.rsplit(" ", 1)[0] if " " in head else ""


def suggest(prompt: str, campaigns: Sequence[Campaign]) -> Suggestion:
    ranked = [item for item in rank(prompt, campaigns) if item[1] > 0]
    match, score = ranked[0] if ranked else (None, 0.0)
    name = cut_at_word(prompt, NAME_LIMIT) or "Untitled campaign"
    phrase = " ".join(key_phrases(prompt))
    # Only the first letter is raised: the rest keeps its case (names, acronyms).
    subject = cut_at_word(phrase[:1].upper() + phrase[1:], SUBJECT_LIMIT) or name
    return Suggestion(name=name, subject=subject, match=match, score=round(score, 3))
