"""Model families, one module each, registered by key (see ``registry``)."""
