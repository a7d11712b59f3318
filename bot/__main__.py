"""`python -m bot` is the same as the `quaybot` command."""

from bot.cli import main

raise SystemExit(main())
