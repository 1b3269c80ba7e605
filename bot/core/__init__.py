"""The core: the duty program's rules (shifts, duty time, unit status, rosters, dispatch, settings,
leave, links, profiles, departments) and what they use. It knows nothing of Discord or the web: it returns
facts and typed errors, and reaches the outside through the ports of `bot.core.ports`."""
