"""``python -m controller`` runs the ``lambda-gitops`` command line."""

from controller.cli.main import main

main()
