"""The front ends: the Gymnasium env, the native vector env, the PettingZoo envs,
and the registration of every integration as ``Mame/<game>-v0``."""
