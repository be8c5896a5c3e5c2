"""`python -m redline ...` is the `redline` command (for hosts where scripts are not on PATH)."""
from redline.site.cli import main

main()
