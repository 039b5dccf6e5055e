"""Training loop: behaviour cloning of K-action chunks with a masked L1 loss.

One script for one CPU process and for ``torchrun --nproc_per_node N`` (DDP, gloo on
CPU / nccl on GPU): under torchrun each rank draws its own batches (rank in the
batch seed) and rank 0 alone logs and writes checkpoints.

Determinism, which makes resume testable: the batch, augmentation and dropout of
step ``s`` come from generators seeded by (seed, rank, s), and the checkpoint stores
the step, model, optimizer and scheduler, so a run resumed at step s continues with
exactly the losses the uninterrupted run logged (same thread count).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from embodied_stack.vla.checkpoint import load_checkpoint, load_train_state, save_checkpoint
from embodied_stack.vla.config import VLAConfig
from embodied_stack.vla.data import DemoBuffer, InstructionBank, sample_batch
from embodied_stack.vla.language import InstructionEncoder
from embodied_stack.vla.model import VLANet


def chunk_loss(model: VLANet, batch, state_noise: float, gen: torch.Generator | None,
               aux_weight: float = 0.0) -> torch.Tensor:
    """Masked L1 between predicted and demonstrated chunks, in normalised action units, plus
    ``aux_weight`` x L1 of the auxiliary prediction (normalised) when the model has one."""
    net = model.module if hasattr(model, "module") else model
    state = net.normalise_state(batch.state)
    if state_noise > 0 and gen is not None:
        state = state + torch.randn(state.shape, generator=gen) * state_noise
    if net.cfg.aux_dim:
        pred, aux = model(batch.images, state, batch.language, goal=batch.goal, with_aux=True)
    else:
        pred, aux = model(batch.images, state, batch.language, goal=batch.goal), None
    target = net.encode_actions(batch.actions, batch.state)
    err = F.l1_loss(pred, target, reduction="none").mean(-1)
    valid = (~batch.pad).float()
    loss = (err * valid).sum() / valid.sum().clamp(min=1.0)
    if aux is not None and batch.aux is not None and aux_weight > 0:
        loss = loss + aux_weight * F.l1_loss(aux, (batch.aux - net.aux_mean) / net.aux_std)
    return loss


def _lr_lambda(cfg: VLAConfig):
    t = cfg.train

    def f(step: int) -> float:
        if step < t.warmup_steps:
            return (step + 1) / t.warmup_steps
        progress = min(1.0, (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


def train(cfg: VLAConfig, resume: bool = False, progress: bool = True,
          buffer: DemoBuffer | None = None, encoder: InstructionEncoder | None = None,
          stop_after: int | None = None) -> Path:
    """Train (or resume) into ``cfg.train.output_dir``; returns the final checkpoint folder.

    ``buffer``/``encoder`` let tests and notebooks pass already-loaded data.
    ``stop_after``: end this invocation after that many steps, checkpointed, without
    changing the schedule (a pre-emptible job's time slice; the resume test's interruption).
    """
    from embodied_stack import paths

    t = cfg.train
    torch.set_num_threads(t.threads)
    rank, world = _dist_info()
    out = paths.resolve(t.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last"
    buffer = buffer or DemoBuffer.from_datasets(cfg.data.datasets, cfg.model, cfg.data.aux_features,
                                                cfg.data.goal_features)
    encoder = encoder or InstructionEncoder()
    bank = InstructionBank(buffer.tasks, encoder, cfg.data.paraphrases, seed=t.seed)

    torch.manual_seed(t.seed)
    model = VLANet(cfg.model)
    model.set_stats(buffer.stats(cfg.model))
    model.set_language_stats(bank.all_embeddings())
    if t.init_from and not resume:
        init, _, _ = load_checkpoint(t.init_from)
        if init.cfg != cfg.model:
            raise ValueError(f"train.init_from {t.init_from}: its model config differs from this one; "
                             "fine-tuning needs identical sizes")
        model.load_state_dict(init.state_dict())  # weights and the statistics they were trained with
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg))
    start = 0
    if resume:
        state = load_train_state(last)
        if state is None:
            raise FileNotFoundError(f"nothing to resume in {last}; train without --resume first")
        loaded, _, _ = load_checkpoint(last)
        model.load_state_dict(loaded.state_dict())
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = int(state["step"])
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if torch.cuda.is_available() \
        else torch.device("cpu")
    model.to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    def checkpoint(step: int) -> Path:
        return save_checkpoint(last, model, cfg, buffer.tasks, train_state={
            "step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
            extra={"fps": buffer.fps} if buffer.fps else None)  # the policy's control rate

    log = (out / "log.jsonl").open("a") if rank == 0 else None
    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=t.steps, initial=start, desc="train vla", mininterval=5.0)
    began = time.monotonic()
    step = start
    for step in range(start, t.steps):
        seed = (t.seed * 1_000_003 + rank * 7_919 + step) % (2**63)
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # dropout
        ddp.train()
        batch = sample_batch(buffer, bank, cfg.model, cfg.data, t.batch_size, gen)
        if device.type != "cpu":
            batch.images = [i.to(device) for i in batch.images]
            batch.state, batch.language = batch.state.to(device), batch.language.to(device)
            batch.actions, batch.pad = batch.actions.to(device), batch.pad.to(device)
            batch.aux = batch.aux.to(device) if batch.aux is not None else None
            batch.goal = batch.goal.to(device) if batch.goal is not None else None
        loss = chunk_loss(ddp, batch, cfg.data.state_noise, gen, t.aux_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        optimizer.step()
        scheduler.step()
        if rank != 0:
            continue
        if bar is not None:
            bar.update(1)
        if (step + 1) % t.log_every == 0 or step == start:
            rec = {"step": step + 1, "loss": loss.item(), "lr": scheduler.get_last_lr()[0],
                   "elapsed_s": round(time.monotonic() - began, 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            if bar is not None:
                bar.set_postfix(loss=f"{rec['loss']:.4f}")
        if (step + 1) % t.save_every == 0:
            checkpoint(step + 1)
        if t.eval_every and t.eval_suite and (step + 1) % t.eval_every == 0:
            from embodied_stack.vla.evaluate import evaluate_checkpoint

            checkpoint(step + 1)
            result = evaluate_checkpoint(str(last), t.eval_suite, episodes=t.eval_episodes, seed=t.seed)
            log.write(json.dumps({"step": step + 1, "eval": t.eval_suite,
                                  "success": result["mean_success"]}) + "\n")
            log.flush()
        out_of_time = t.time_limit_min and time.monotonic() - began > t.time_limit_min * 60
        if out_of_time or (stop_after is not None and step + 1 - start >= stop_after):
            step += 1
            break
    else:
        step = t.steps
    if rank == 0:
        checkpoint(step)
        if bar is not None:
            bar.close()
        log.close()
    if world > 1:
        torch.distributed.destroy_process_group()
    return last
