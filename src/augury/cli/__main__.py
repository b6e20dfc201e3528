"""`python -m augury.cli`, the same as the `augury` command."""

from augury.cli import main

main()
