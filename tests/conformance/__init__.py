"""Conformance of the emulated registry and of moto to LAMBDA_RULES.md."""
