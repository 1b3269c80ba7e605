"""`python -m bot.northca.sandbox`: run the sandbox alone."""

from bot.northca.sandbox.cli import main

main()
