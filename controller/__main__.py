"""``python -m controller`` runs the ``lambda-gitops`` command line."""

from controller.cli import main

main()
