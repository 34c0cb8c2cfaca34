"""Packyard: a self-hosted package registry for Python."""

__version__ = "0.1.0"
