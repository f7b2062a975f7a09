"""MameVectorEnv: many MAMEs driven from one Python thread.

Each sub-env is a :class:`MameEnv` with its own MAME. A step sends every
sub-env its action without waiting (each MAME emulates on its own core, if it
has one), then takes the replies as they arrive with one ZeroMQ poller over
their sockets, decoding each into its row of preallocated batch arrays. No
Python worker process stands between the agent and the MAMEs, so the only
work besides emulation is the decoding, done while the other MAMEs still run.

    envs = gymnasium.make_vec("Mame/a2600-breakout-v0", num_envs=8)

It is also EnvPool-style asynchronous: with ``batch_size < num_envs``,
:meth:`send` starts the given sub-envs and :meth:`recv` returns the first
``batch_size`` that finish (``info["env_id"]`` says which): the agent works on
one batch while the MAMEs of the others run. This helps when sub-envs take
different times per step (a reset's boot frames, games of uneven cost, more
MAMEs than cores) and the agent's own work per batch is large; with equal
steps and a light agent, the synchronous mode is as fast.

A sub-env whose MAME crashes, is killed or hangs is replaced by a fresh one at
the start state: its episode ends as truncated with ``info["mame_restarted"]``
(and a warning with MAME's last output), the others go on untouched. The new
MAME starts and resets in a thread, so the other sub-envs' replies are taken
meanwhile: the restarted one simply arrives later. Only a sub-env that fails
``max_restarts`` times within ``restart_window`` seconds raises.

Call order is a small state machine (:class:`_Phase`): a call that ends by an
exception part-way (Ctrl-C at any line) leaves the env in ``IN_CALL``, which
the next ``step``/``send``/``recv`` refuses with a clear error and the next
``reset``/``async_reset`` clears, after each sub-env's Emulator has dropped the
reply it may still be owed (replies are tagged, so a late one is never read as
another's).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import zmq
from gymnasium.envs.registration import EnvSpec
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, create_empty_array

from gym_mame.envs.env import MameEnv, construction, rebuilt
from gym_mame.errors import MameCrashedError, MameTimeoutError

_POLL_MS = 100  # how often a wait looks at MAMEs that have not answered yet
_RESTART_POLL_MS = 10  # ... while a fresh MAME is on its way (its thread has no socket here)
# What a sub-env is waiting for: its step's or reset's reply, a fresh MAME being made
# (restarting), or nothing more (restarted: its first observation is in hand).
_STEP, _RESET, _RESTARTING, _RESTARTED = "step", "reset", "restarting", "restarted"


class _Phase(enum.Enum):
    """Where the env is in its call order."""

    UNRESET = "not reset yet"
    READY = "ready"
    IN_CALL = "in a call"  # seen at the start of the next call: the last one did not finish


class MameVectorEnv(VectorEnv):
    """``num_envs`` copies of one game, each in its own MAME, stepped from one thread.

    Args:
        game: integration name or folder, as for :class:`MameEnv`.
        num_envs: how many sub-envs (MAME processes).
        batch_size: ``None`` (every sub-env each step) or fewer, for EnvPool-style
            :meth:`send` / :meth:`recv`.
        autoreset_mode: Gymnasium's ``NextStep`` (default), ``SameStep`` (the final
            observation and info in ``info["final_obs"]`` / ``info["final_info"]``) or
            ``Disabled`` (reset with ``options={"reset_mask": ...}``).
        copy: return copies of the batch arrays (``False``: the same arrays, refilled
            by the next step).
        max_restarts: failures of one sub-env within ``restart_window`` seconds that
            are replaced with a fresh MAME before an error is raised.
        **kwargs: every :class:`MameEnv` option (obs_type, frameskip,
            repeat_action_probability, noop_max, action_type, full_action_space,
            obs_size, max_episode_steps, max_num_frames_per_episode, render_mode, ...),
            for each sub-env.
    """

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.NEXT_STEP,
                                          "render_modes": ["rgb_array"]}

    def __init__(self, game: str = "pong", num_envs: int = 1, *, batch_size: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 copy: bool = True, max_restarts: int = 3, restart_window: float = 60.0,
                 **kwargs: Any) -> None:
        self._construction = construction(locals(), "kwargs")
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, not {num_envs!r}")
        batch_size = num_envs if batch_size is None else batch_size
        if not isinstance(batch_size, int) or not 1 <= batch_size <= num_envs:
            raise ValueError(f"batch_size must be from 1 to num_envs ({num_envs}), "
                             f"not {batch_size!r}")
        if "ray.rllib" in sys.modules:  # made by RLlib's runner from its bare id?
            from gym_mame.envs.rllib_guard import refuse_rllib_id_route
            refuse_rllib_id_route(str(game), kwargs.get("obs_type", "rgb"))
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        if batch_size < num_envs and self.autoreset_mode != AutoresetMode.NEXT_STEP:
            raise ValueError("batch_size < num_envs (asynchronous stepping) autoresets with "
                             "NextStep only")
        self.game = game
        self.num_envs = num_envs
        self.batch_size = batch_size
        self.copy = copy
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self._kwargs = kwargs
        self.render_mode = kwargs.get("render_mode")
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self._restarted: dict[int, tuple[Any, dict[str, Any]]] = {}  # fresh sub-envs' start
        self._spec: EnvSpec | None = None
        self._restarting: dict[int, Future[tuple[MameEnv, Any, dict[str, Any]]]] = {}
        self._restarter: ThreadPoolExecutor | None = None
        self._phase = _Phase.UNRESET
        self.envs: list[MameEnv] = self._make_all(num_envs)
        first = self.envs[0]
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, batch_size)
        self.action_space = batch_space(self.single_action_space, batch_size)
        self.metadata["render_fps"] = first.metadata["render_fps"]
        self._obs = create_empty_array(self.single_observation_space, batch_size)
        self._rewards = np.zeros(batch_size, np.float64)
        self._terminations = np.zeros(batch_size, np.bool_)
        self._truncations = np.zeros(batch_size, np.bool_)
        self._needs_reset = np.zeros(num_envs, np.bool_)  # NextStep: done at the last step
        self._pending: dict[int, str] = {}  # sub-env -> what it was sent, awaiting the reply
        self._last_ids = np.arange(batch_size)
        self._failures: list[list[float]] = [[] for _ in range(num_envs)]

    # -- making sub-envs ----------------------------------------------------------
    def _make_all(self, count: int) -> list[MameEnv]:
        # MAME starts and boots on its own: start them together.
        with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
            futures = [pool.submit(self._new_env) for _ in range(count)]
        envs, error = [], None
        for future in futures:
            try:
                envs.append(future.result())
            except BaseException as exc:  # re-raised below, after clean-up
                error = error or exc
        if error is not None:
            for env in envs:
                env.close()
            raise error
        return envs

    def _new_env(self) -> MameEnv:
        """One sub-env, carrying the spec ``gymnasium.make`` gives a single env of this
        game and options (so that ``get_attr("spec")`` says what each sub-env is)."""
        env = MameEnv(self.game, **self._kwargs)
        env.spec = self._single_spec(env)
        return env

    def _single_spec(self, env: MameEnv) -> EnvSpec:
        env_id = self._spec.id if self._spec is not None else env.game.env_id
        kwargs = {"game": self.game, **self._kwargs}
        registered = gym.registry.get(env_id)
        if registered is None:  # a folder given by path: not registered
            return EnvSpec(env_id, entry_point="gym_mame.envs.env:MameEnv",
                           vector_entry_point="gym_mame.envs.vector_env:MameVectorEnv",
                           kwargs=kwargs)
        return dataclasses.replace(registered, kwargs=kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its construction: unpickling starts ``num_envs`` fresh MAMEs, to be
        reset (seed them with ``reset(seed=...)``)."""
        return (rebuilt, (type(self), self._construction, {"spec": self._spec}))

    @property  # type: ignore[override]
    def spec(self) -> EnvSpec | None:
        """The vector env's spec (``gymnasium.make_vec`` sets it; sub-envs take its id)."""
        return self._spec

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        self._spec = value
        for env in getattr(self, "envs", []):
            env.spec = self._single_spec(env)

    # -- the engine: send to some, take replies as they come ----------------------------
    def _send(self, i: int, kind: str, action: Any = None, seed: int | None = None) -> None:
        try:
            if kind == _RESET:
                self.envs[i].send_reset(seed=seed)
            else:
                self.envs[i].send_step(action)
        except (MameCrashedError, MameTimeoutError) as exc:  # it died since the last step
            self._restart(i, exc)
            return
        self._pending[i] = kind

    def _ready(self, wanted: set[int] | None, count: int) -> list[int]:
        """Wait until ``count`` of the pending sub-envs (among ``wanted``) have replied;
        return them in the order they did. Crashed or hung ones are restarted."""
        done: list[int] = []
        while len(done) < count:
            waiting = [i for i in self._pending if (wanted is None or i in wanted)
                       and i not in done]
            for i in waiting:
                if self._arrived(i):  # a fresh MAME, reset and ready
                    done.append(i)
                    if len(done) == count:
                        return done
            polled = [i for i in waiting if self._pending[i] in (_STEP, _RESET)]
            poller = zmq.Poller()
            for i in polled:
                poller.register(self.envs[i].emulator.poll_handle, zmq.POLLIN)
            restarting = len(polled) < len(waiting)
            events = dict(poller.poll(_RESTART_POLL_MS if restarting else _POLL_MS))
            for i in polled:
                if events.get(self.envs[i].emulator.poll_handle):
                    done.append(i)
                    if len(done) == count:
                        break
                else:
                    try:
                        self.envs[i].emulator.check_alive()
                    except (MameCrashedError, MameTimeoutError) as exc:
                        self._restart(i, exc)
        return done

    def _arrived(self, i: int) -> bool:
        """Whether sub-env ``i`` is a fresh MAME with its first observation in hand (one
        whose start failed is restarted again)."""
        kind = self._pending[i]
        if kind == _RESTARTED:
            return True
        if kind != _RESTARTING or not self._restarting[i].done():
            return False
        try:
            env, obs, info = self._restarting[i].result()
        except (MameCrashedError, MameTimeoutError) as exc:
            del self._restarting[i]
            self._restart(i, exc)
            return False
        self.envs[i] = env
        self._restarted[i] = (obs, {**info, "mame_restarted": True})
        self._pending[i] = _RESTARTED
        del self._restarting[i]
        return True

    def _take(self, i: int, row: int, infos: dict[str, Any]) -> None:
        """Decode sub-env ``i``'s reply into ``row`` of the batch arrays and ``infos``."""
        kind = self._pending.pop(i)
        out = _row(self._obs, row)
        if kind == _RESTARTED:
            obs, info = self._restarted.pop(i)
            _copy_into(out, obs)
            reward, terminated, truncated = 0.0, False, True
        elif kind == _RESET:
            _, info = self.envs[i].receive_reset(out)
            reward, terminated, truncated = 0.0, False, False
        else:
            _, reward, terminated, truncated, info = self.envs[i].receive_step(out)
        self._rewards[row], self._terminations[row] = reward, terminated
        self._truncations[row] = truncated
        done = terminated or truncated
        if done and self.autoreset_mode == AutoresetMode.SAME_STEP:
            final = copy.deepcopy(out)
            reset_info = info
            if kind != _RESTARTED:
                self._send(i, _RESET)
                self._ready({i}, 1)
                if self._pending.pop(i) == _RESTARTED:  # its MAME died at this reset
                    obs, reset_info = self._restarted.pop(i)
                    _copy_into(out, obs)
                else:
                    _, reset_info = self.envs[i].receive_reset(out)
            self._add_info(infos, {"final_obs": final, "final_info": info}, row)
            info = reset_info
        self._needs_reset[i] = done and self.autoreset_mode == AutoresetMode.NEXT_STEP
        self._add_info(infos, info, row)

    def _restart(self, i: int, error: Exception) -> None:
        """Replace sub-env ``i`` with a fresh MAME at its start state."""
        now = time.monotonic()
        recent = [t for t in self._failures[i] if now - t < self.restart_window] + [now]
        self._failures[i] = recent
        log = getattr(error, "log", "")
        if len(recent) >= self.max_restarts:
            raise MameCrashedError(
                f"sub-env {i} of {self.game} failed {len(recent)} times within "
                f"{self.restart_window:g} s; the last time: {error}", log) from error
        warnings.warn(f"sub-env {i} of {self.game}: a fresh MAME takes its place (the episode "
                      f"ends as truncated, info['mame_restarted']). What happened: {error}",
                      stacklevel=3)
        self.envs[i].close()
        if self._restarter is None:
            self._restarter = ThreadPoolExecutor(max_workers=2,
                                                 thread_name_prefix="gym_mame-restart")
        self._restarting[i] = self._restarter.submit(self._fresh_env)
        self._pending[i] = _RESTARTING

    def _fresh_env(self) -> tuple[MameEnv, Any, dict[str, Any]]:
        """A new sub-env, reset (in a thread, while the others go on)."""
        env = self._new_env()
        try:
            obs, info = env.reset()
        except BaseException:
            env.close()
            raise
        return env, obs, info

    def _begin(self, name: str) -> None:
        """Check the call order before ``step``/``send``/``recv``, then enter the call."""
        if self._phase is _Phase.UNRESET:
            raise RuntimeError(f"call reset() (or async_reset()) before {name}()")
        if self._phase is _Phase.IN_CALL:
            raise RuntimeError(
                "the last call to this MameVectorEnv was interrupted (e.g. by Ctrl-C) or "
                "failed before it finished, so what its sub-envs did meanwhile is lost; "
                "call reset() to start every sub-env afresh")
        self._phase = _Phase.IN_CALL

    # -- Gymnasium's VectorEnv API ---------------------------------------------------------
    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-env, or those in ``options["reset_mask"]``. An integer seed
        seeds sub-env i with seed + i. With ``batch_size < num_envs``, this is
        :meth:`async_reset` and :meth:`recv`: the first batch to be ready."""
        if self.batch_size < self.num_envs and not (options and "reset_mask" in options):
            self.async_reset(seed)
            obs, _, _, _, infos = self.recv()
            return obs, infos
        mask = np.ones(self.num_envs, np.bool_)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], np.bool_)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must have shape ({self.num_envs},), not "
                                 f"{mask.shape}")
            if self.batch_size < self.num_envs:
                raise ValueError("reset_mask needs batch_size == num_envs")
            if self._phase is _Phase.IN_CALL and not mask.all():
                raise RuntimeError("the last call was interrupted (e.g. by Ctrl-C) before it "
                                   "finished: reset every sub-env (no reset_mask)")
        seeds = self._seeds(seed)
        resetting = set(np.flatnonzero(mask).tolist())
        self._phase = _Phase.IN_CALL
        self._settle(resetting)
        for i in sorted(resetting):
            self._send(i, _RESET, seed=seeds[i])
        infos = self._collect(resetting, by_index=True)
        self._phase = _Phase.READY
        return self._result(infos)[0], infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        """Step every sub-env (or, with ``batch_size < num_envs``, the batch last
        received) and return the batch."""
        ids = None if self.batch_size == self.num_envs else self._last_ids
        checked = self._checked_send(actions, ids)
        self._begin("step")
        self._send_all(*checked)
        result = self._result(self._collect(None, by_index=self.batch_size == self.num_envs))
        self._phase = _Phase.READY
        return result

    def send(self, actions: Any, env_ids: Sequence[int] | np.ndarray | None = None) -> None:
        """Start sub-envs ``env_ids`` (default: all) on their actions without waiting;
        a sub-env whose episode ended at its last step resets instead (NextStep)."""
        checked = self._checked_send(actions, env_ids)
        self._begin("send")
        self._send_all(*checked)
        self._phase = _Phase.READY

    def _checked_send(self, actions: Any, env_ids: Sequence[int] | np.ndarray | None
                      ) -> tuple[Any, np.ndarray]:
        """The actions and sub-envs of a send, checked before anything is sent."""
        if self._phase is _Phase.UNRESET:
            raise RuntimeError("call reset() (or async_reset()) before step()/send()")
        ids = np.arange(self.num_envs) if env_ids is None else np.asarray(env_ids, np.int64)
        actions = list(actions) if not isinstance(actions, dict) else actions
        if len(actions) != len(ids):
            raise ValueError(f"{len(actions)} actions for {len(ids)} sub-envs")
        busy = [int(i) for i in ids if int(i) in self._pending]
        if busy and self._phase is _Phase.READY:
            raise RuntimeError(f"sub-env(s) {busy} are still running; recv() them first")
        return actions, ids

    def _send_all(self, actions: Any, ids: np.ndarray) -> None:
        for action, i in zip(actions, ids, strict=True):
            i = int(i)
            if self._needs_reset[i]:
                self._send(i, _RESET)
            else:
                self._send(i, _STEP, action)

    def recv(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Wait for the first ``batch_size`` sub-envs to finish; ``info["env_id"]`` gives
        them in order (all of them, by index, when ``batch_size == num_envs``)."""
        if self._phase is _Phase.READY and len(self._pending) < self.batch_size:
            raise RuntimeError(f"recv() needs {self.batch_size} running sub-envs, "
                               f"{len(self._pending)} are: send() first")
        self._begin("recv")
        result = self._result(self._collect(None, by_index=self.batch_size == self.num_envs))
        self._phase = _Phase.READY
        return result

    def async_reset(self, seed: int | Sequence[int | None] | None = None) -> None:
        """Start resetting every sub-env; :meth:`recv` returns them as they finish."""
        seeds = self._seeds(seed)
        self._phase = _Phase.IN_CALL
        self._settle(set(range(self.num_envs)))
        for i in range(self.num_envs):
            self._send(i, _RESET, seed=seeds[i])
        self._phase = _Phase.READY

    def _collect(self, wanted: set[int] | None, by_index: bool) -> dict[str, Any]:
        count = len(wanted) if wanted is not None else self.batch_size
        infos: dict[str, Any] = {}
        ready = self._ready(wanted, count)
        order = sorted(ready) if by_index else ready
        for row, i in enumerate(order):
            self._take(i, i if by_index else row, infos)
        ids = np.asarray(order, np.int64)
        self._last_ids = ids
        if self.batch_size < self.num_envs:  # rows are the batch, not the sub-envs
            infos = {k: v[:self.batch_size] if isinstance(v, np.ndarray) else v
                     for k, v in infos.items()}
            infos["env_id"] = ids
        else:
            infos["env_id"] = np.arange(self.num_envs)
        return infos

    def _result(self, infos: dict[str, Any]) -> tuple[Any, np.ndarray, np.ndarray,
                                                      np.ndarray, dict[str, Any]]:
        obs = copy.deepcopy(self._obs) if self.copy else self._obs
        arrays = (self._rewards, self._terminations, self._truncations)
        if self.copy:
            arrays = tuple(a.copy() for a in arrays)
        return (obs, *arrays, infos)

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} sub-envs")
        return seeds

    def _settle(self, resetting: set[int]) -> None:
        """Before a reset of ``resetting``: the other sub-envs' running steps are finished
        (their replies taken), fresh MAMEs on their way are waited for, and the sub-envs
        being reset drop what they were sent (their Emulator's reset takes and drops a
        late reply, also one this env lost track of when a call was interrupted)."""
        for i in list(self._pending):
            if i in resetting and self._pending[i] in (_STEP, _RESET):
                del self._pending[i]
                continue
            self._ready({i}, 1)
            kind = self._pending.pop(i)
            if kind == _RESET:
                self.envs[i].receive_reset()
            elif kind == _STEP:
                self.envs[i].receive_step()
            else:
                self._restarted.pop(i, None)
        self._needs_reset[:] = False

    def render(self) -> tuple[Any, ...] | None:
        """Each sub-env's last frame (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            return None
        return tuple(env.render() for env in self.envs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call method (or read attribute) ``name`` of every sub-env."""
        results = []
        for env in self.envs:
            value = getattr(env, name)
            results.append(value(*args, **kwargs) if callable(value) else value)
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        return tuple(getattr(env, name) for env in self.envs)

    def set_attr(self, name: str, values: Any) -> None:
        if not isinstance(values, (list, tuple)):
            values = [values] * self.num_envs
        for env, value in zip(self.envs, values, strict=True):
            setattr(env, name, value)

    def close_extras(self, **kwargs: Any) -> None:
        for future in getattr(self, "_restarting", {}).values():
            try:  # a fresh MAME still starting: wait for it, to stop it
                future.result()[0].close()
            except Exception:
                pass
        if getattr(self, "_restarter", None) is not None:
            self._restarter.shutdown()
        for env in getattr(self, "envs", []):
            env.close()


def _row(batch: Any, row: int) -> Any:
    """Row ``row`` of a batch array (or of every member of a dict of them), as a view."""
    if isinstance(batch, dict):
        return {name: _row(value, row) for name, value in batch.items()}
    return batch[row]


def _copy_into(out: Any, value: Any) -> None:
    if isinstance(out, dict):
        for name in out:
            _copy_into(out[name], value[name])
    else:
        out[...] = value
