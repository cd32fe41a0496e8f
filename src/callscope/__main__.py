"""``python -m callscope`` is the ``callscope`` command."""

from callscope.cli import main

main()
