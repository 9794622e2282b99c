"""Image classifiers: reading uploads safely, prediction, uncertainty (MC dropout, augmentations) and saliency,
with the method table that names what applies to each kind of network."""
