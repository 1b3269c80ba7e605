"""The web front door: the bot's public web server (`server`: the ER:LC event webhook) and what it serves."""
