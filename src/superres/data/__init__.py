"""Data sets by name or folder, training patches, augmentation and caches."""
