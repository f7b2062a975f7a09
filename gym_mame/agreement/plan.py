"""The plan of actions every comparison plays on both sides: a seeded random policy.

Episode ``i`` draws from ``numpy.random.default_rng(seed + i)``: first a number of NOOP
steps (0 to ``noop_max``), then a uniform random action a step (with several agents, one
draw per agent, agent by agent in order, every step). The same draws on both sides give
both the same action sequence for as long as their games stay in step. Episodes end when
the game does or at ``max_steps`` steps (the no-ops included).

The no-op starts matter: a deterministic emulator without them starts every episode from
one state, and many games draw their enemies from a frame counter; gym_mame's start is a
few frames off a reference's (MAME's boot timing and the frames a state load takes), so the
two would compare two particular starts rather than the games.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gym_mame.agreement.stats import MultiSample, Sample

NOOP_MAX = 30
Progress = Callable[[int], None]


def play(env: Any, episodes: int, max_steps: int, seed: int, noop_max: int = NOOP_MAX,
         progress: Progress | None = None) -> Sample:
    """Play the plan on a single-agent Gymnasium env for ``episodes`` episodes;
    ``progress(1)`` after each episode."""
    sample = Sample()
    n_actions = env.action_space.n
    steps, started = 0, time.perf_counter()
    for episode in range(episodes):
        rng = np.random.default_rng(seed + episode)
        env.reset(seed=seed + episode)
        total, length, terminated = 0.0, 0, False
        noops = int(rng.integers(noop_max + 1))
        while not terminated and length < max_steps:
            action = 0 if length < noops else int(rng.integers(n_actions))
            _, reward, terminated, _, _ = env.step(action)
            total += float(reward)
            length += 1
        sample.returns.append(total)
        sample.lengths.append(length)
        sample.truncated += not terminated
        steps += length
        if progress is not None:
            progress(1)
    sample.steps_per_s = steps / (time.perf_counter() - started)
    return sample


def play_agents(env: Any, episodes: int, max_steps: int, seed: int, noop_max: int = NOOP_MAX,
                progress: Progress | None = None) -> MultiSample:
    """Play the plan on a PettingZoo parallel env (every player NOOP during the no-ops; an
    agent that is done still draws, so the others' draws stay in step); ``progress(1)``
    after each episode."""
    sample = MultiSample({a: [] for a in env.possible_agents})
    steps, started = 0, time.perf_counter()
    for episode in range(episodes):
        rng = np.random.default_rng(seed + episode)
        env.reset(seed=seed + episode)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        noops, length = int(rng.integers(noop_max + 1)), 0
        while env.agents and length < max_steps:
            actions = {}
            for agent in env.possible_agents:
                n = env.action_space(agent).n
                action = 0 if length < noops else int(rng.integers(n))
                if agent in env.agents:
                    actions[agent] = action
            _, rewards, _, _, _ = env.step(actions)
            for agent, reward in rewards.items():
                totals[agent] += float(reward)
            length += 1
        for agent in env.possible_agents:
            sample.returns[agent].append(totals[agent])
        sample.lengths.append(length)
        steps += length
        if progress is not None:
            progress(1)
    sample.steps_per_s = steps / (time.perf_counter() - started)
    return sample
