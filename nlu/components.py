"""Rasa 3 graph components for Vietnamese: the normaliser (first) and the tokenizer.

Only the Rasa environment imports this module (config.yml names the classes).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from underthesea import word_tokenize

from vietnamese.text import fold, normalize

logger = logging.getLogger(__name__)

ORIGINAL_TEXT = "text_original"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseNormalizer(GraphComponent):
    """Rewrites the message text into the normalised form before anything else sees it.

    The family's raw words stay in the parse result under ``text_original``.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 1500}

    def __init__(self, config: dict[str, Any]) -> None:
        self.max_chars = int(config["max_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseNormalizer:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data is normalised at build time; here we only check it."""
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if isinstance(text, str) and normalize(text) != text:
                if example.get("entities"):
                    logger.warning("Not normalised at build time: %r", text)
                else:
                    example.set(TEXT, normalize(text))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(ORIGINAL_TEXT, text, add_to_output=True)
                message.set(TEXT, normalize(text, self.max_chars))
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Word segmentation with underthesea; never raises.

    Each token's lemma is its word's lower-case, diacritic-free form with "_" between
    syllables ("Đặc xá" → "dac_xa"), so featurizers that use lemmas treat text typed with
    and without diacritics alike. With ``split_syllables`` every syllable is its own token
    (carrying its word's lemma), so entity spans never fall inside a token.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "fixed_words": [],
            "split_syllables": False,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.fixed_words = list(config.get("fixed_words") or [])
        self.split_syllables = bool(config.get("split_syllables"))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls(config)

    def _words(self, text: str) -> list[str]:
        try:
            return word_tokenize(text, use_token_normalize=False, fixed_words=self.fixed_words)
        except Exception:  # underthesea fails on some inputs: fall back to spaces
            logger.debug("underthesea failed; splitting on spaces", exc_info=True)
            return text.split()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        if not isinstance(text, str):
            return []
        tokens = tokens_for(text, self._words(text), self.split_syllables)
        return self._apply_token_pattern(tokens)


def tokens_for(text: str, words: list[str], split_syllables: bool = False) -> list[Token]:
    """Place each word in ``text``; words that cannot be found are split or skipped."""
    tokens: list[Token] = []
    offset = 0
    for word in words:
        for part in [word] if word in text[offset:] else word.split():
            start = text.find(part, offset)
            if start < 0 or not part:
                continue
            offset = start + len(part)
            if not any(ch.isalnum() for ch in part):
                continue
            lemma = fold(part).replace(" ", "_")
            if split_syllables:
                position = start
                for syllable in part.split():
                    position = text.find(syllable, position)
                    tokens.append(Token(syllable, position, lemma=lemma))
                    position += len(syllable)
            else:
                tokens.append(Token(part, start, lemma=lemma))
    if not tokens and text:
        tokens.append(Token(text, 0, lemma=fold(text).replace(" ", "_")))
    return tokens
