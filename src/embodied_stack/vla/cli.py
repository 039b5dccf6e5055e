"""``embodied-stack train vla``, ``eval vla`` and ``vla demos`` (torch imported only when run)."""

from __future__ import annotations

import argparse
import json

from embodied_stack.cli import CommandRegistry


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="config/vla/<name>.yaml")
    p.add_argument("--resume", action="store_true", help="continue from <output_dir>/last")
    p.add_argument("--output-dir", help="override train.output_dir")
    p.add_argument("--steps", type=int, help="override train.steps")
    p.add_argument("--init-from", help="override train.init_from: start from this checkpoint's weights and "
                   "statistics with a new schedule (a further training round)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value (YAML syntax), e.g. --set data.shift_px=0; repeatable")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (log.jsonl is still written)")


def _train(args: argparse.Namespace) -> int:
    from embodied_stack.vla.config import load_config
    from embodied_stack.vla.train import train

    cfg = load_config(args.config)
    if args.output_dir:
        cfg.train.output_dir = args.output_dir
    if args.steps:
        cfg.train.steps = args.steps
    if args.init_from:
        cfg.train.init_from = args.init_from
    for item in args.set:
        _override(cfg, item)
    path = train(cfg, resume=args.resume, progress=not args.no_progress)
    print(f"checkpoint: {path}")
    return 0


def _override(cfg, item: str) -> None:
    """Apply one ``section.key=value`` override (value parsed as YAML) to a VLAConfig, checked like
    the YAML file: an unknown section or key is an error, not a silent no-op."""
    import dataclasses

    import yaml

    from embodied_stack.config import ConfigError
    from embodied_stack.vla.config import config_from_dict, config_to_dict

    path, sep, text = item.partition("=")
    section, dot, key = path.partition(".")
    if not sep or not dot:
        raise SystemExit(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. data.shift_px=0")
    data = config_to_dict(cfg)
    if section not in data or key not in data[section]:
        raise SystemExit(f"--set {item!r}: no {path} in the config; sections: {sorted(data)}")
    data[section][key] = yaml.safe_load(text)
    try:
        new = config_from_dict(data, source=f"--set {item}")
    except ConfigError as e:
        raise SystemExit(str(e)) from e
    for f in dataclasses.fields(cfg):
        setattr(cfg, f.name, getattr(new, f.name))


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint folder (model.safetensors + config.json)")
    p.add_argument("--suite", help="tabletop | metaworld-mt10 | metaworld-mt50 | metaworld-<easy|medium|hard|"
                   "very_hard> (default: the checkpoint's train.eval_suite)")
    p.add_argument("--episodes", type=int, default=10,
                   help="episodes per task (metaworld, LeRobot's protocol: 10) or in total (tabletop)")
    p.add_argument("--seed", type=int, default=0, help="evaluation seed (layouts never used in training)")
    p.add_argument("--tasks", help="comma-separated subset of the suite's tasks")
    p.add_argument("--video-dir", help="write the first episode of each task as mp4 here")
    p.add_argument("--paraphrase", action="store_true", help="use unseen paraphrases of the instructions")
    p.add_argument("--query-every", type=int, default=1,
                   help="Meta-World: predict a chunk every N steps (temporal ensembling in between)")
    p.add_argument("--goal-source", default="perception", choices=("perception", "oracle"),
                   help="tabletop, policies with a goal input: ground the instruction with our perception "
                        "pipeline (as on the robot) or take simulator truth")
    p.add_argument("--success-hold-s", type=float, default=None,
                   help="tabletop: s of sim time the object must stay released in the container (default: "
                        "embodied_stack.sim.judge.SUCCESS_HOLD_S)")
    p.add_argument("--combinations", default="seen", choices=("seen", "compositional", "all"),
                   help="tabletop: the (colour, shape, container) combinations asked for: those the "
                        "demonstrations ask for, only the held-out ones (sim.instructions."
                        "COMPOSITIONAL_HELD_OUT), or all")
    p.add_argument("--latency-steps", type=int, default=0, choices=(0, 1),
                   help="tabletop: control periods before a chunk is first used (0: ready at the tick of the "
                        "frame it came from, the node's chunk-driven mode; 1: one period later)")
    p.add_argument("--world", help="tabletop: the world's YAML (default config/sim/tabletop.yaml; "
                   "config/sim/tabletop_clutter.yaml: six objects, two more distractors than in training)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    p.add_argument("--workers", type=int, default=1,
                   help="Meta-World: evaluate tasks in this many processes (one torch thread each)")
    p.add_argument("--json", help="also write the result as JSON here")


def _eval(args: argparse.Namespace) -> int:
    import torch

    from embodied_stack.vla.evaluate import evaluate_checkpoint

    torch.set_num_threads(args.threads)
    suite = args.suite
    if suite is None:
        from embodied_stack.vla.checkpoint import load_checkpoint

        suite = load_checkpoint(args.checkpoint)[1].train.eval_suite
        if not suite:
            raise SystemExit(f"{args.checkpoint} names no eval suite (train.eval_suite); pass --suite")
    hold = {} if args.success_hold_s is None else {"success_hold_s": args.success_hold_s}
    result = evaluate_checkpoint(args.checkpoint, suite, args.episodes, args.seed, args.video_dir,
                                 paraphrased=args.paraphrase,
                                 tasks=args.tasks.split(",") if args.tasks else None,
                                 query_every=args.query_every, goal_source=args.goal_source,
                                 latency_steps=args.latency_steps, tasks_split=args.combinations,
                                 workers=args.workers, world_config=args.world, **hold)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


def _demos_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", default="metaworld-mt10",
                   help="tabletop | metaworld-mt10 | metaworld-mt50 | metaworld-<difficulty group>")
    p.add_argument("--root", required=True, help="new dataset folder (LeRobotDataset v3)")
    p.add_argument("--episodes-per-task", type=int, default=50, help="(tabletop: episodes in total)")
    p.add_argument("--tasks", help="comma-separated subset of the suite's tasks")
    p.add_argument("--seed", type=int, default=0, help="first layout seed (episode i uses seed + i)")
    p.add_argument("--action-space", default="joint_position", choices=("joint_position", "native"),
                   help="tabletop: record absolute joint targets (default) or the env's joint-target deltas")
    p.add_argument("--noise", type=float, default=0.0,
                   help="tabletop: DART execution noise, max per-episode std in action units (e.g. 0.4)")
    p.add_argument("--dagger-policy",
                   help="tabletop: checkpoint that drives the arm while the expert labels every frame "
                        "(DAgger)")


def _demos(args: argparse.Namespace) -> int:
    if args.suite == "tabletop":
        from embodied_stack.vla import tabletop_data

        policy = None
        if args.dagger_policy:
            from embodied_stack.vla.policy import VLAPolicy

            policy = VLAPolicy(args.dagger_policy, threads=1)
        n = tabletop_data.generate(args.root, args.episodes_per_task, args.seed,
                                   action_space=args.action_space, noise=args.noise, policy=policy)
    elif args.suite.startswith("metaworld-"):
        from embodied_stack.vla.metaworld_data import generate, suite_tasks

        tasks = tuple(args.tasks.split(",")) if args.tasks else suite_tasks(args.suite)
        n = generate(args.root, tasks, args.episodes_per_task, args.seed)
    else:
        raise SystemExit(f"unknown suite {args.suite!r}; choose tabletop or metaworld-<mt10|mt50|group>")
    print(f"wrote {n} episodes to {args.root}")
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("train", "vla"), configure=_train_args, run=_train,
                 help="train the VLA policy from LeRobotDatasets (CPU or torchrun DDP)")
    registry.add(("eval", "vla"), configure=_eval_args, run=_eval,
                 help="closed-loop success rate of a VLA checkpoint in simulation, with 95%% intervals")
    registry.add(("vla", "demos"), configure=_demos_args, run=_demos,
                 help="record scripted-expert demonstrations through the dataset writer")
