"""Turns feed files into warehouse rows: detect, parse, validate, load, rebuild the mart."""
