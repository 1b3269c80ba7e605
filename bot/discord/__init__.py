"""The Discord front door: the bot (`NorthcaBot`), answering interactions in time and within Discord's
limits, option and custom-id checks, publishing the commands, the invite link, the demo mark. The cogs (in
`cogs/`) are its features."""
