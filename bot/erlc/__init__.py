"""The game: a community's ER:LC private server (through the PRC API), behind one port (`port.GameServerPort`).

Nothing here knows Discord. Another game (MC) can come later as another implementation of the same port.
"""
