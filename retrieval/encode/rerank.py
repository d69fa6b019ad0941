"""Re-rank candidates with a local cross-encoder: a question and candidate texts flow in, one relevance score per
text flows out (the model's raw logit, higher = more relevant), in the order the texts came."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from .embed import OFFLINE_ENV

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

EXAMPLE = "a copy of cross-encoder/ms-marco-MiniLM-L-6-v2"


class Reranker:
    """A cross-encoder that reads the question and each text together and scores how well the text answers it.

    Scores are raw logits, never passed through a sigmoid: what `CrossEncoder.predict` applies by default depends on
    the folder's saved config (ms-marco-MiniLM-L6-v2 declares the identity and returns logits such as 8.4 and -4.3; a
    one-label folder that declares nothing gets a sigmoid), so pinning the identity gives every folder the same kind
    of score. The sigmoid is monotone and would not change a ranking, but in float32 it rounds every logit above
    about 16.6 to exactly 1.0, tying the strongest candidates. For a 0..1 probability, apply the sigmoid yourself."""

    def __init__(self, model: CrossEncoder, batch_size: int = 32) -> None:
        self.model = model
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: Path, batch_size: int = 32) -> Reranker:
        """The cross-encoder in the folder `path`, refused with a ConfigError unless it gives one relevance score."""
        path = path.expanduser()
        check_cross_encoder(path)
        for key, value in OFFLINE_ENV.items():  # before transformers is imported: it never reaches for the hub
            os.environ.setdefault(key, value)
        import torch
        from sentence_transformers import CrossEncoder

        try:
            model = CrossEncoder(str(path), device="cpu", local_files_only=True, activation_fn=torch.nn.Identity())
        except (OSError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ConfigError(f"the cross-encoder in {path} cannot be loaded ({reason}); copy the whole model "
                              f"folder again (config.json, weights and tokenizer files)") from error
        if model.num_labels != 1:
            raise ConfigError(f"{path} scores {model.num_labels} classes (an NLI or other classifier), not one "
                              f"relevance score; set `reranker` to a re-ranking cross-encoder such as {EXAMPLE}")
        return cls(model, batch_size)

    def scores(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One float32 score per text, in the order of `texts`: the higher, the better it answers `question`."""
        logits = self.model.predict([(question, text) for text in texts], batch_size=self.batch_size,
                                    show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(logits, dtype=np.float32)


def check_cross_encoder(path: Path) -> None:
    """Refuse, before anything loads, a folder that is missing or holds no cross-encoder: a sentence-embedding model
    would otherwise load with a freshly initialised (random) scoring head and re-rank at random."""
    if not path.is_dir():
        raise ConfigError(f"reranker folder {path} not found; set `reranker` to a local cross-encoder folder "
                          f"({EXAMPLE}) or remove the key")
    if read_json(path / "config_sentence_transformers.json").get("model_type") == "CrossEncoder":
        return
    architectures = read_json(path / "config.json").get("architectures") or []
    if not any(name.endswith("ForSequenceClassification") for name in architectures):
        found = (f"its config.json describes {', '.join(architectures)}" if architectures
                 else "it has no config.json naming a model class")
        raise ConfigError(f"{path} is not a cross-encoder ({found}, not a …ForSequenceClassification model); "
                          f"set `reranker` to a cross-encoder folder such as {EXAMPLE}")


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when the file is missing or is not a JSON object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
