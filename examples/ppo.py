"""PPO on gym_mame's native vector env, or on the Arcade Learning Environment: the same
algorithm, seeds, hyper-parameters and frame budget on either backend, so that their
learning curves can be laid side by side. One file, CleanRL style, top to bottom.

    pip install "gym_mame[examples]"
    python examples/ppo.py --backend mame --game boxing --seed 1
    python examples/ppo.py --backend ale  --game boxing --seed 1
    python examples/ppo.py --backend mame --game pong-ttl          # TTL Pong, no ROM

Observations are the console's 128 bytes of RAM (scaled to [0, 1]) and the policy a small
MLP: cheap on a CPU. For TTL Pong, which has no RAM, the observation is what its
integration reads (the ball's counters, the scores), the ball's motion and both paddles.
Each run writes TensorBoard logs, a CSV of episode returns against emulated frames, and
checkpoints to ``runs/<name>/``; ``examples/evaluate.py`` plays a checkpoint for whole games.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backend", choices=["mame", "ale"], default="mame", help="emulator")
    p.add_argument("--game", default="boxing", help="ALE game name, or pong-ttl")
    p.add_argument("--seed", type=int, default=1, help="seed of envs, policy and sampling")
    p.add_argument("--frames", type=int, default=4_000_000, help="emulated frames to train")
    p.add_argument("--num-envs", type=int, default=8, help="sub-envs")
    p.add_argument("--num-steps", type=int, default=128, help="steps per sub-env per update")
    p.add_argument("--frameskip", type=int, default=4, help="frames per agent step")
    p.add_argument("--lr", type=float, default=2.5e-4, help="Adam learning rate (annealed)")
    p.add_argument("--gamma", type=float, default=0.99, help="discount")
    p.add_argument("--gae-lambda", type=float, default=0.95, help="GAE lambda")
    p.add_argument("--minibatches", type=int, default=4, help="minibatches per epoch")
    p.add_argument("--epochs", type=int, default=4, help="epochs per update")
    p.add_argument("--clip", type=float, default=0.1, help="PPO clip coefficient")
    p.add_argument("--ent-coef", type=float, default=0.01, help="entropy bonus")
    p.add_argument("--vf-coef", type=float, default=0.5, help="value loss weight")
    p.add_argument("--max-grad-norm", type=float, default=0.5, help="gradient clipping")
    p.add_argument("--hidden", type=int, default=64, help="units of the MLP's two layers")
    p.add_argument("--return-bonus", type=float, default=0.0,
                   help="pong-ttl only: reward added for each ball the agent returns (not in "
                        "the logged returns, which are the game's points)")
    p.add_argument("--bonus-fade-frames", type=int, default=0,
                   help="pong-ttl: the return bonus fades to nothing over these frames (0: never)")
    p.add_argument("--max-episode-frames", type=int, default=108_000,
                   help="frames before an episode is cut short (ALE v5's default)")
    p.add_argument("--out", default="runs", help="where logs and checkpoints go")
    p.add_argument("--checkpoint-every", type=int, default=50, help="updates between saves")
    return p.parse_args()


class PongFeatures(gym.vector.VectorObservationWrapper):
    """TTL Pong's observation, scaled to about [-1, 1]: the ball's position (``ball_x``, the
    column the integration derives from the horizontal counter, and the vertical counter), its
    motion since the previous step, where each paddle stands against the ball's height, our
    paddle's height (to know the walls) and both scores.

    The ball's height is put in paddle units by the integration's opponent rule (the paddle
    value that centres a paddle on it). A player aims within a few units of it, which is a
    hundredth of the paddles' range: given as raw heights, the difference is too fine for a
    small network to find soon; given as the difference over 32 units, one step's nudge at
    frameskip 2 (8 units) moves it by a quarter."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        super().__init__(env)
        self.single_observation_space = gym.spaces.Box(-1, 1, (9,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              env.num_envs)
        self.rule = env.unwrapped.envs[0].unwrapped.game.opponent
        self.previous: np.ndarray | None = None

    def observations(self, obs: dict) -> np.ndarray:
        x = obs["ball_x"][:, 0] / 313  # the court: columns 57 to 313
        counter = obs[self.rule.follow][:, 0]  # the ball's vertical counter, which it follows
        y = counter / 255
        emulators = [e.emulator for e in self.env.unwrapped.envs]
        ours = np.array([e.positions["PADDLE"] for e in emulators])
        theirs = np.array([e.positions["PADDLE2"] for e in emulators])
        centre = self.rule.scale * counter + self.rule.offset
        ball = np.stack([x, y], axis=1)
        # The ball's motion over the last step (none at the first observation; after an
        # episode's end, one step sees the jump to the new serve).
        motion = np.zeros_like(ball) if self.previous is None else ball - self.previous
        self.previous = ball
        against = np.clip(np.stack([centre - ours, centre - theirs], axis=1) / 32, -1, 1)
        return np.concatenate(
            [ball, np.clip(motion * 8, -1, 1), against, ours[:, None] / 255,
             np.stack([obs["score_left"][:, 0], obs["score_right"][:, 0]], axis=1) / 11],
            axis=1).astype(np.float32)


class PongReturnBonus(gym.vector.VectorWrapper):
    """Adds ``bonus`` to the reward of a step in which the agent returned the ball (it was
    coming left, near the agent's paddle, and now goes right): a denser signal for the first
    skill, returning the ball, than the points, which come about a hundred steps apart.

    The bonus fades linearly to nothing over the first ``fade`` steps of each sub-env (0: it
    never fades). Measured: a bonus that stays makes an endless rally pay more than points,
    and a policy that had learnt to win went on to rally until the episodes' frame limit."""

    def __init__(self, env: gym.vector.VectorEnv, bonus: float, fade: int) -> None:
        super().__init__(env)
        self.bonus, self.fade, self.steps = bonus, fade, 0
        self.coming = np.zeros(env.num_envs, bool)

    def step(self, actions: np.ndarray):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self.steps += 1
        bonus = self.bonus * (max(0.0, 1 - self.steps / self.fade) if self.fade else 1.0)
        x, motion = obs[:, 0], obs[:, 2]  # PongFeatures' ball column and its motion
        near = x < (57 + 64) / 313  # within 64 columns of the agent's paddle
        returned = self.coming & (motion > 0) & near
        moving_left = (motion < 0) & (motion > -1)  # -1: a jump (a new serve, a missed ball)
        self.coming = (moving_left | (self.coming & (motion == 0))) & near
        return obs, reward + bonus * returned, terminated, truncated, info


def make_envs(args: argparse.Namespace) -> gym.vector.VectorEnv:
    """The same task on either backend: ALE v5's defaults (sticky actions 0.25, the minimal
    action set, 108,000 frames an episode), RAM observations."""
    if args.game == "pong-ttl":
        import gym_mame

        envs = gym.make_vec("Mame/pong-v0", num_envs=args.num_envs, obs_type="dict",
                            frameskip=args.frameskip,
                            max_num_frames_per_episode=args.max_episode_frames)
        envs = gym.wrappers.vector.RecordEpisodeStatistics(PongFeatures(envs))
        if not args.return_bonus:
            return envs
        fade = args.bonus_fade_frames // (args.num_envs * args.frameskip)
        return PongReturnBonus(envs, args.return_bonus, fade)
    if args.return_bonus:
        raise SystemExit("--return-bonus is for --game pong-ttl only")
    if args.backend == "mame":
        import gym_mame  # noqa: F401

        envs = gym.make_vec(f"Mame/a2600-{args.game}-v0", num_envs=args.num_envs,
                            obs_type="ram", frameskip=args.frameskip,
                            max_num_frames_per_episode=args.max_episode_frames)
    else:
        import ale_py

        gym.register_envs(ale_py)
        name = "".join(w.capitalize() for w in args.game.split("_"))
        envs = gym.make_vec(f"ALE/{name}-v5", num_envs=args.num_envs, obs_type="ram",
                            frameskip=args.frameskip, vectorization_mode="sync",
                            max_num_frames_per_episode=args.max_episode_frames)
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)


class Agent(nn.Module):
    def __init__(self, n_inputs: int, n_actions: int, hidden: int) -> None:
        super().__init__()

        def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
            lin = nn.Linear(i, o)
            nn.init.orthogonal_(lin.weight, std)
            nn.init.constant_(lin.bias, 0.0)
            return lin

        self.body = nn.Sequential(layer(n_inputs, hidden), nn.Tanh(), layer(hidden, hidden),
                                  nn.Tanh())
        self.actor = layer(hidden, n_actions, 0.01)
        self.critic = layer(hidden, 1, 1.0)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(self.body(x)).squeeze(-1)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None):
        hidden = self.body(x)
        dist = Categorical(logits=self.actor(hidden))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.critic(hidden).squeeze(-1)


def to_tensor(obs: np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(obs, dtype=torch.float32)
    return x / 255.0 if obs.dtype == np.uint8 else x


def main() -> None:
    args = parse_args()
    name = f"{args.game}_{args.backend}_seed{args.seed}"
    out = Path(args.out) / name
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(out))
    writer.add_text("args", str(vars(args)))
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(1)  # the emulators need the cores

    envs = make_envs(args)
    n_inputs = int(np.prod(envs.single_observation_space.shape))
    n_actions = int(envs.single_action_space.n)
    agent = Agent(n_inputs, n_actions, args.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.lr, eps=1e-5)

    n, t = args.num_envs, args.num_steps
    batch = n * t
    updates = args.frames // (batch * args.frameskip)
    obs_buf = torch.zeros((t, n, n_inputs))
    act_buf, logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((t, n)) for _ in range(5))

    next_obs, _ = envs.reset(seed=args.seed)
    next_obs = to_tensor(next_obs).reshape(n, -1)
    next_done = torch.zeros(n)
    frames, started = 0, time.time()
    log = open(out / "episodes.csv", "w", newline="")
    episodes = csv.writer(log)
    episodes.writerow(["frames", "return", "length", "seconds"])
    bar = tqdm(total=updates * batch * args.frameskip, unit="frame", unit_scale=True,
               mininterval=5)

    for update in range(1, updates + 1):
        for group in optimizer.param_groups:  # linear annealing, as in CleanRL
            group["lr"] = args.lr * (1.0 - (update - 1) / updates)

        # -- rollout ------------------------------------------------------------------
        for step in range(t):
            obs_buf[step], done_buf[step] = next_obs, next_done
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            act_buf[step], logp_buf[step], val_buf[step] = action, logp, value
            obs, reward, term, trunc, info = envs.step(action.numpy())
            frames += n * args.frameskip
            bar.update(n * args.frameskip)
            rew_buf[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = to_tensor(obs).reshape(n, -1)
            next_done = torch.as_tensor(term | trunc, dtype=torch.float32)
            if "episode" in info:
                for i in np.flatnonzero(info["_episode"]):
                    ret, length = float(info["episode"]["r"][i]), int(info["episode"]["l"][i])
                    episodes.writerow([frames, ret, length, round(time.time() - started, 1)])
                    writer.add_scalar("charts/episodic_return", ret, frames)
                    writer.add_scalar("charts/episodic_length", length, frames)
                    bar.set_postfix(ret=f"{ret:g}")
        log.flush()

        # -- advantages (GAE) --------------------------------------------------------------
        with torch.no_grad():
            next_value = agent.value(next_obs)
            advantages = torch.zeros_like(rew_buf)
            last = torch.zeros(n)
            for step in reversed(range(t)):
                nonterminal = 1.0 - (next_done if step == t - 1 else done_buf[step + 1])
                following = next_value if step == t - 1 else val_buf[step + 1]
                delta = rew_buf[step] + args.gamma * following * nonterminal - val_buf[step]
                last = delta + args.gamma * args.gae_lambda * nonterminal * last
                advantages[step] = last
            returns = advantages + val_buf

        # -- optimisation ------------------------------------------------------------------
        b_obs, b_act, b_logp = obs_buf.reshape(batch, -1), act_buf.reshape(-1), logp_buf.reshape(-1)
        b_adv, b_ret, b_val = advantages.reshape(-1), returns.reshape(-1), val_buf.reshape(-1)
        order = np.arange(batch)
        size = batch // args.minibatches
        for _ in range(args.epochs):
            np.random.shuffle(order)
            for start in range(0, batch, size):
                mb = order[start:start + size]
                _, logp, entropy, value = agent.act(b_obs[mb], b_act[mb].long())
                ratio = (logp - b_logp[mb]).exp()
                adv = b_adv[mb]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(-adv * ratio,
                                    -adv * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
                v_clipped = b_val[mb] + (value - b_val[mb]).clamp(-args.clip, args.clip)
                v_loss = 0.5 * torch.max((value - b_ret[mb]) ** 2,
                                         (v_clipped - b_ret[mb]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        writer.add_scalar("losses/policy", pg_loss.item(), frames)
        writer.add_scalar("losses/value", v_loss.item(), frames)
        writer.add_scalar("losses/entropy", entropy.mean().item(), frames)
        writer.add_scalar("charts/frames_per_second", frames / (time.time() - started), frames)
        if update % args.checkpoint_every == 0 or update == updates:
            # The latest in checkpoint.pt, and each one kept: a policy can get worse later on,
            # and examples/evaluate.py plays the one that was best.
            state = {"agent": agent.state_dict(), "optimizer": optimizer.state_dict(),
                     "frames": frames, "args": vars(args)}
            torch.save(state, out / "checkpoint.pt")
            torch.save(state, out / "checkpoints" / f"{frames:010d}.pt")

    bar.close()
    log.close()
    envs.close()
    writer.close()
    print(f"{name}: {frames} frames in {time.time() - started:.0f} s; "
          f"episodes in {out / 'episodes.csv'}")


if __name__ == "__main__":
    main()
