"""Image audits: classify a batch of labelled images with a registered classifier and score every image.

The prediction is the argmax of one eval-mode pass over the batch (preprocessed as backend.image.prediction does
for the Image page). softmax, predictive_entropy and margin score that pass's distribution over all C classes;
MC dropout and test-time augmentation run K passes per image exactly as the Image page does at the same seed
(backend.image.uncertainty), scored against the eval-mode prediction. An item keeps the probabilities of the
dataset's K classes and, when the model has other classes, one last column with their total mass (rows sum to 1),
so an audit of a few ImageNet classes stores K + 1 numbers per image, not 1000.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from backend.audit.image_folders import ImageFolder
from backend.audit.image_labels import AuditClasses, match_folders, wordnet_ids
from backend.audit.methods import AuditMethod
from backend.errors import UserInputError
from backend.image.input import ReadImage, read_upload
from backend.image.prediction import MAX_BATCH, PreparedImage, batched_logits, prepare
from backend.image.uncertainty import UNCERTAINTY_METHODS
from backend.models.image_loader import LoadedImageModel
from backend.schemas.audit import AuditItem


def audit_classes(lm: LoadedImageModel, folder: ImageFolder) -> AuditClasses:
    """The model's class of every class folder (UserInputError says which folders to rename, and how)."""
    return match_folders(folder.folders, lm.class_names, lm.spec.id, wordnet_ids(lm.num_classes))


def class_columns(probs: np.ndarray, model_indices: Sequence[int]) -> np.ndarray:
    """(B, K) probabilities of the K audited classes from (B, C) ones, plus a last column with the mass of the
    C - K other classes when K < C; rows still sum to 1."""
    kept = probs[:, list(model_indices)]
    if len(model_indices) == probs.shape[1]:
        return kept
    return np.concatenate([kept, np.clip(1.0 - kept.sum(axis=1, keepdims=True), 0.0, 1.0)], axis=1)


def decode(folder: ImageFolder, indices: Sequence[int]) -> list[ReadImage]:
    """The images at these dataset positions as 8-bit RGB; a file that cannot be decoded is named."""
    images = [folder.images[i] for i in indices]
    decoded = []
    for image, data in zip(images, folder.read(images)):
        try:
            decoded.append(read_upload(data, image.path))
        except UserInputError as exc:
            raise UserInputError(f"{image.path}: {exc}") from None
    return decoded


def pass_probabilities(lm: LoadedImageModel, prepared: Sequence[PreparedImage], method: str, passes: int,
                       seed: int) -> list[np.ndarray]:
    """(K, C) probabilities of K stochastic passes (mc_dropout or tta) for each image, each image seeded alike."""
    run = UNCERTAINTY_METHODS.get(method).run
    return [run(lm, image, passes, seed, MAX_BATCH).probs.numpy() for image in prepared]


def image_items(lm: LoadedImageModel, folder: ImageFolder, classes: AuditClasses, methods: Sequence[AuditMethod],
                indices: Sequence[int], *, passes: int, seed: int) -> list[AuditItem]:
    """Finished items for the images at these positions. The caller holds the model's lock."""
    prepared = [prepare(lm, read.image) for read in decode(folder, indices)]
    probs = torch.softmax(batched_logits(lm.model, torch.cat([p.batch for p in prepared])), dim=-1).numpy()
    stochastic = {m.passes for m in methods if m.passes}
    pass_probs = {name: pass_probabilities(lm, prepared, name, passes, seed) for name in sorted(stochastic)}
    columns = class_columns(probs, classes.model_indices)
    items = []
    for row, index in enumerate(indices):
        image = folder.images[index]
        predicted, column = int(probs[row].argmax()), classes.column_of_folder[image.folder]
        scores = {m.name: m.pass_score(pass_probs[m.passes][row], predicted) if m.passes else m.class_score(probs[row])
                  for m in methods}
        items.append(AuditItem(index=index, id=image.path, question=image.path, answers=[classes.names[column]],
                               answer=lm.class_names[predicted], correct=predicted == classes.model_indices[column],
                               grading="label", scores=scores, probs=columns[row].tolist(), label=column))
    return items
