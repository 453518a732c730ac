"""Perinatal Pathway Analytics: extracts in, pathway metrics out, for commissioners."""

__version__ = "0.2.0"
CONTRACT_VERSION = "1.1"
