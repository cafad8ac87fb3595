"""Model directories: versioned, checksummed, relocatable."""

from .bundle import FORMAT_VERSION, load_bundle, pickled_size, save_bundle

__all__ = ["FORMAT_VERSION", "load_bundle", "pickled_size", "save_bundle"]
