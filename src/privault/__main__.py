"""``python -m privault`` runs the CLI."""

from privault.cli.app import main

main()
