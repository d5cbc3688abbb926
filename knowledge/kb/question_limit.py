"""Keeping a message's questions within the number one reply answers.

"Em phải làm đơn gì, nộp ở đâu, cần giấy tờ gì?" reads as three questions about one measure.
When a message asks more than a reply can answer, such parts of one sentence become one question
again, so a later question of its own ("thời gian ở nhà có tính vào án không?") is not dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.kb.reading import Question


def within(questions: Sequence[Question], limit: int) -> list[Question]:
    """At most ``limit`` questions, in order: neighbouring parts of one sentence about one measure
    are joined first (the earlier part's facet stays, unless it only asked in general)."""
    kept = list(questions)
    while len(kept) > limit:
        pair = next(
            (
                i
                for i in range(len(kept) - 1)
                if kept[i].sentence == kept[i + 1].sentence >= 0
                and kept[i].measure == kept[i + 1].measure
            ),
            None,
        )
        if pair is None:
            break
        first, second = kept[pair], kept[pair + 1]
        joined = replace(
            first,
            text=f"{first.text.rstrip(' ,?')}, {second.text}",
            facet=second.facet if first.facet == "overview" else first.facet,
            confident=first.confident or second.confident,
        )
        kept[pair : pair + 2] = [joined]
    return kept[:limit]
