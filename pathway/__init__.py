"""Perinatal Pathway Analytics: extracts in, pathway metrics out, for commissioners."""

__version__ = "0.1.0"
CONTRACT_VERSION = "1"
