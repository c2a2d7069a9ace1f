"""`campaign create --prompt`: the offered name and subject end on whole words."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from lettr_cli.campaigns.prompt import suggest

NAME_LIMIT, SUBJECT_LIMIT = 80, 120

TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Z")), max_size=600)


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def _whole_words(offered: str, prompt: str) -> bool:
    """Every word offered is a word of the prompt (the subject's first letter is raised)."""
    given_words = {w.upper() for w in words_of(prompt)}
    return all(w.upper() in given_words for w in words_of(offered))


@given(TEXT)
@example("Autumn " + "supercalifragilistic " * 10 + "boots")
@example("x" * 200 + " shoes and boots")
@example("the and for of " * 20)
@example("Sale " + "a" * 119 + " b")
def test_offered_subjects_and_names_end_on_whole_words(prompt: str) -> None:
    offered = suggest(prompt, [])
    assert len(offered.subject) <= SUBJECT_LIMIT
    assert len(offered.name) <= NAME_LIMIT
    assert offered.name.strip()
    assert _whole_words(offered.subject, prompt) or offered.subject == offered.name
    assert _whole_words(offered.name, prompt) or offered.name == "Untitled campaign"


def test_a_long_prompt_is_cut_after_a_word() -> None:
    prompt = "Winter boots clearance " + "everything must go today " * 10
    offered = suggest(prompt, [])
    assert offered.subject.endswith(("clearance", "everything", "must", "go", "today"))
    assert offered.name.split()[-1] in prompt.split()
