"""Model directories: versioned, checksummed, relocatable."""

from .bundle import FORMAT_VERSION, load_bundle, save_bundle

__all__ = ["FORMAT_VERSION", "load_bundle", "save_bundle"]
