"""Measuring a detector on labelled images: ``vision eval``."""
