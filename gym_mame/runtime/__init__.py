"""The runtime under every front end: the Emulator (one MAME running one
integration), the play core that owns an episode, and what it is made of (the
Match of rules, observations, frames, starts, actions, ROM look-up)."""
