"""Matching the class folders of an image dataset to a classifier's classes.

A folder names a class by any of: the class's name or one of its comma-separated synonyms ("tabby" or "tabby cat"
for ImageNet's "tabby, tabby cat"), ignoring case, underscores, hyphens and repeated spaces ("Tabby_Cat"); its
index (281); or, for the 1000 ImageNet classes, its WordNet id (n02123045, the folder names of ImageNet itself).
A name shared by two classes (ImageNet has two "crane"s) is refused with both indices to choose from.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from backend.errors import UserInputError

IMAGENET_CLASSES = 1000
SPACES = re.compile(r"[\s_\-]+")
SUGGESTIONS = 3
LISTED = 8


@dataclass(frozen=True)
class AuditClasses:
    """The dataset's classes as the model knows them.

    model_indices: (K,) the model's index of each audited class, in first-seen folder order. names: (K,) their
    class names. column_of_folder: folder name -> position in model_indices (several folders may share one).
    """

    model_indices: list[int]
    names: list[str]
    column_of_folder: dict[str, int]


def normalize_label(text: str) -> str:
    """Lower case, underscores / hyphens / runs of spaces as one space, trimmed: "Tabby_Cat " -> "tabby cat"."""
    return SPACES.sub(" ", text).strip().lower()


@lru_cache(maxsize=1)
def _imagenet_wordnet_ids() -> tuple[str, ...]:
    """timm's ImageNet-1k WordNet ids, read once per process (ImageNetInfo takes about 1.4 s to load, and every
    audit batch asks)."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_label_name(i) for i in range(IMAGENET_CLASSES))


def wordnet_ids(num_classes: int) -> list[str]:
    """ImageNet-1k's WordNet ids (n01440764, ...) by class index, from timm; [] for any other class count."""
    return list(_imagenet_wordnet_ids()) if num_classes == IMAGENET_CLASSES else []


def label_table(class_names: Sequence[str], synsets: Sequence[str] = ()) -> dict[str, set[int]]:
    """Every accepted spelling (normalised) -> the class indices it names."""
    table: dict[str, set[int]] = {}
    for index, name in enumerate(class_names):
        spellings = {name, *name.split(","), str(index), *(synsets[index:index + 1])}
        for spelling in spellings:
            key = normalize_label(spelling)
            if key:
                table.setdefault(key, set()).add(index)
    return table


def _unknown_message(unknown: list[str], table: dict[str, set[int]], model_id: str, num_classes: int) -> str:
    hints = []
    for folder in unknown[:LISTED]:
        close = difflib.get_close_matches(normalize_label(folder), list(table), n=SUGGESTIONS, cutoff=0.75)
        hints.append(f"'{folder}'" + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""))
    more = f" and {len(unknown) - LISTED} more" if len(unknown) > LISTED else ""
    ids = " or a WordNet id such as n02123045" if num_classes == IMAGENET_CLASSES else ""
    return (f"{len(unknown)} class folder(s) match no class of {model_id}: {', '.join(hints)}{more}. Rename each "
            f"folder to one of the model's class names (case, '_' and '-' do not matter), a class index "
            f"0-{num_classes - 1}{ids}")


def match_folders(folders: Sequence[str], class_names: Sequence[str], model_id: str,
                  synsets: Sequence[str] = ()) -> AuditClasses:
    """The model's class for every folder; UserInputError lists unknown and ambiguous folders and what to change."""
    table = label_table(class_names, synsets)
    unknown, ambiguous, index_of = [], [], {}
    for folder in folders:
        matches = table.get(normalize_label(folder), set())
        if not matches:
            unknown.append(folder)
        elif len(matches) > 1:
            choices = ", ".join(f"{i} ({class_names[i]})" for i in sorted(matches))
            ambiguous.append(f"'{folder}' names classes {choices}")
        else:
            index_of[folder] = next(iter(matches))
    if unknown:
        raise UserInputError(_unknown_message(unknown, table, model_id, len(class_names)))
    if ambiguous:
        raise UserInputError(f"{'; '.join(ambiguous)}: rename the folder to the class index (or WordNet id) you "
                             f"mean")
    model_indices = list(dict.fromkeys(index_of.values()))
    return AuditClasses(model_indices=model_indices, names=[class_names[i] for i in model_indices],
                        column_of_folder={f: model_indices.index(i) for f, i in index_of.items()})
