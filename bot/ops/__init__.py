"""Running the bot: the command line, building the services (`services`), start-up checks, shutdown,
the health endpoint, backups and database copies."""
