"""`python -m crmclean` runs the command line."""

from crmclean.cli import main

main()
