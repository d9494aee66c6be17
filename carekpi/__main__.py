"""`python -m carekpi` runs the command line."""

from carekpi.cli import cli

cli()
