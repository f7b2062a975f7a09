"""Ray RLlib on real MAMEs: PPO (new API stack) trains single- and multi-agent, env runners
own their MAMEs (none outlives a runner killed with SIGKILL), and a two-node Ray cluster on
loopback trains with env runners on both nodes and leaves no MAME behind."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from processes import alive

ray = pytest.importorskip("ray", reason="the ray extra (pip install 'gym_mame[ray]')")

from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.tune.registry import register_env  # noqa: E402

import gym_mame.rllib  # noqa: E402

SMALL = {"train_batch_size_per_learner": 64, "minibatch_size": 32, "num_epochs": 1}
BOXING = {"game": "a2600-boxing", "obs_type": "ram", "max_num_frames_per_episode": 400}


def mames_of(marker: str) -> list[int]:
    """Running MAME processes whose environment carries ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if "mame" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            if marker.encode() in Path(f"/proc/{pid}/environ").read_bytes() and alive(int(pid)):
                found.append(int(pid))
        except OSError:
            continue
    return found


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def local_ray():  # one Ray for the module's tests: starting Ray takes a while
    marker = f"GYM_MAME_TEST_RAY={os.getpid()}-{time.monotonic_ns()}"
    os.environ["GYM_MAME_TEST_RAY"] = marker.split("=", 1)[1]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"GYM_MAME_TEST_RAY": os.environ["GYM_MAME_TEST_RAY"]}})
    yield marker
    ray.shutdown()
    del os.environ["GYM_MAME_TEST_RAY"]


# First in the module: its `ray stop --force` stops every Ray on the machine, and a
# driver whose Ray is stopped under it (this process, once local_ray has started one)
# exits at once with no word, ending the whole test run.
def test_a_two_node_cluster_on_loopback() -> None:
    ray_bin = str(Path(sys.executable).with_name("ray"))
    port = 6390 + os.getpid() % 100
    marker = f"GYM_MAME_TEST_RAY=cluster-{os.getpid()}"
    short = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must be short
    # Token authentication, as a real cluster should have: a node that joins proves the token.
    env = {**os.environ, "GYM_MAME_TEST_RAY": marker.split("=", 1)[1], "RAY_TMPDIR": short,
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    common = ["--disable-usage-stats", "--include-dashboard=false"]
    try:
        subprocess.run([ray_bin, "start", "--head", f"--port={port}", "--num-cpus=1",
                        "--resources={\"mame_node\": 1}", "--node-ip-address=127.0.0.1",
                        *common], check=True, env=env, capture_output=True, timeout=120)
        # a second node on the same machine: its own raylet and object store
        subprocess.run([ray_bin, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1",
                        "--resources={\"mame_node\": 1}", "--node-ip-address=127.0.0.1",
                        "--disable-usage-stats"], check=True, env=env, capture_output=True,
                       timeout=120)
        driver = CLUSTER_DRIVER.format(port=port, env_config=BOXING)
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(driver)], env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        line = next(line for line in out.stdout.splitlines() if line.startswith("NODES"))
        _, nodes, _, steps = line.split()
        assert int(nodes) == 2 and float(steps) >= 64
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(short, ignore_errors=True)
    assert wait_for(lambda: not mames_of(marker), 15), "MAMEs outlived the cluster"


def test_single_agent_ppo_trains_on_the_native_vector_env_and_runners_own_their_mames(
        local_ray) -> None:
    register_env("mame", gym_mame.rllib.vector_env)
    config = (PPOConfig()
              .environment("mame", env_config=BOXING)
              .env_runners(num_env_runners=1, num_envs_per_env_runner=2,
                           gym_env_vectorize_mode="vector_entry_point",
                           rollout_fragment_length=32)
              .training(**SMALL))
    algo = config.build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 64
        kinds = algo.env_runner_group.foreach_env_runner(
            lambda runner: type(runner.env.unwrapped).__name__, local_env_runner=False)
        assert kinds == ["MameVectorEnv"]
        mames = mames_of(local_ray)
        assert len(mames) == 2  # the runner's two sub-envs
        pids = algo.env_runner_group.foreach_env_runner(lambda r: os.getpid(),
                                                        local_env_runner=False)
        os.kill(pids[0], signal.SIGKILL)  # as Ray itself may, when it gives up on a worker
        assert wait_for(lambda: not mames_of(local_ray), 10), "MAMEs outlived their runner"
    finally:
        algo.stop()
    assert wait_for(lambda: not mames_of(local_ray), 10)


@pytest.mark.parametrize("shared", [True, False])
def test_multi_agent_self_play_trains(local_ray, shared: bool) -> None:
    register_env("boxing2", gym_mame.rllib.multi_agent_env)
    config = (PPOConfig()
              .environment("boxing2", env_config={"game": "a2600-boxing", "obs_type": "ram",
                                                  "frameskip": 4, "max_cycles": 100})
              .env_runners(num_env_runners=1, rollout_fragment_length=32)
              .training(**SMALL))
    if shared:
        config = config.multi_agent(policies={"shared"},
                                    policy_mapping_fn=lambda agent, episode, **kw: "shared")
    else:
        config = config.multi_agent(policies={"first", "second"},
                                    policy_mapping_fn=lambda agent, episode, **kw:
                                    agent.split("_")[0])
    algo = config.build_algo()
    try:
        result = algo.train()
        learners = result["learners"]
        assert ({"shared"} if shared else {"first", "second"}) <= set(learners)
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 64
    finally:
        algo.stop()
    assert wait_for(lambda: not mames_of(local_ray), 10)


CLUSTER_DRIVER = """
import os, ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.tune.registry import register_env
import gym_mame.rllib

ray.init(address="127.0.0.1:{port}", log_to_driver=False)
register_env("mame", gym_mame.rllib.vector_env)
config = (PPOConfig()
          .environment("mame", env_config={env_config!r})
          .env_runners(num_env_runners=2, num_envs_per_env_runner=1, num_cpus_per_env_runner=0,
                       custom_resources_per_env_runner={{"mame_node": 1}},
                       gym_env_vectorize_mode="vector_entry_point", rollout_fragment_length=32)
          .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1))
algo = config.build_algo()
result = algo.train()
nodes = algo.env_runner_group.foreach_env_runner(
    lambda r: ray.get_runtime_context().get_node_id(), local_env_runner=False)
print("NODES", len(set(nodes)), "STEPS", result["env_runners"]["num_env_steps_sampled_lifetime"])
algo.stop()
"""


@pytest.mark.parametrize("mode", ["sync", "vector_entry_point"])
def test_a_bare_id_with_uint8_observations_is_refused_with_the_way_to_do_it(
        local_ray, mode: str) -> None:
    # RLlib's default networks take float32: the bare id handed them uint8 RAM, which
    # failed inside the runner ("mat1 and mat2 must have the same dtype, Byte and Float")
    config = (PPOConfig()
              .environment("gym_mame:Mame/a2600-breakout-v0", env_config={"obs_type": "ram"})
              .env_runners(num_env_runners=0, gym_env_vectorize_mode=mode)
              .training(**SMALL))
    with pytest.raises(gym_mame.GymMameError, match=r"float32.*uint8 \(obs_type='ram'\).*"
                                                    r"gym_mame\.rllib\.vector_env"):
        config.build_algo()
    assert not mames_of(local_ray)
