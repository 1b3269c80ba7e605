"""`python -m bot.erlc.sandbox`: run the PRC sandbox alone."""

from bot.erlc.sandbox.cli import main

main()
