"""Class folders matched to a classifier's classes: names, synonyms, indices, WordNet ids; clear errors."""
from __future__ import annotations

import pytest

from backend.audit.image_labels import match_folders, normalize_label, wordnet_ids
from backend.errors import UserInputError
from backend.models.image_loader import imagenet_or_numbered

IMAGENET = imagenet_or_numbered(1000)
SYNSETS = wordnet_ids(1000)


def test_every_spelling_of_a_class_names_it():
    assert normalize_label("  Tabby__Cat -x ") == "tabby cat x"
    folders = ["tabby", "Tabby_Cat", "281", "n02123045", "tiger-cat", "ESPRESSO"]
    classes = match_folders(folders, IMAGENET, "efficientnet-lite0", SYNSETS)
    assert classes.model_indices == [281, 282, 967]
    assert classes.names == ["tabby, tabby cat", "tiger cat", "espresso"]
    assert [classes.column_of_folder[f] for f in folders] == [0, 0, 0, 0, 1, 2]


def test_unknown_folders_get_suggestions_and_what_to_rename():
    with pytest.raises(UserInputError) as error:
        match_folders(["tabby", "tabbby", "kitty", "1000"], IMAGENET, "efficientnet-lite0", SYNSETS)
    message = str(error.value)
    assert "3 class folder(s) match no class of efficientnet-lite0" in message
    assert "'tabbby' (did you mean 'tabby'" in message and "'kitty'" in message and "'1000'" in message
    assert "class index 0-999" in message and "WordNet id" in message


def test_a_name_of_two_classes_asks_for_the_index():
    with pytest.raises(UserInputError, match=r"'crane' names classes 134 \(crane\), 517 \(crane\)"):
        match_folders(["crane"], IMAGENET, "efficientnet-lite0", SYNSETS)
    assert match_folders(["134"], IMAGENET, "m", SYNSETS).model_indices == [134]


def test_models_without_imagenet_classes_take_indices_and_names():
    names = imagenet_or_numbered(10)
    assert wordnet_ids(10) == []
    assert match_folders(["3", "class_7"], names, "digits").model_indices == [3, 7]
    with pytest.raises(UserInputError, match="class index 0-9\\)?$"):
        match_folders(["n02123045"], names, "digits")
