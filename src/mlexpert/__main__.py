"""``python -m mlexpert`` runs the command line."""

from .cli import main

main()
