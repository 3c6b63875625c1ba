"""lambda-gitops: a GitOps reconciliation controller for AWS Lambda versions and aliases."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lambda-gitops")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
