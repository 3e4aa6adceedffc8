#!/usr/bin/env python
"""Fine-tune a sequence-classification model with Accelerate, `datasets` and an hf_lr schedule.

Runs offline out of the box (a tiny BERT built from a config, a word-level tokenizer built in code, and a generated
sentiment-like data set with a learnable signal), on 1 process or many, on CPU or GPU::

    python examples/finetune.py --output_dir runs/demo                       # 1 process
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 \\
        examples/finetune.py --output_dir runs/demo2                         # 2 CPU processes (gloo)
    accelerate launch --multi_gpu --num_processes 4 examples/finetune.py ... # 4 GPUs

See the README ("Fine-tuning with Accelerate") for resuming and for how the schedule counts optimizer updates.

How the schedule counts optimizer updates
-----------------------------------------
The Accelerator is built with ``step_scheduler_with_optimizer=False`` and the loop calls ``lr_scheduler.step()``
itself, once per optimizer update: only when ``accelerator.sync_gradients`` is true (the last micro-batch of an
accumulation group) and the optimizer step was not skipped (mixed-precision overflow). Accelerate's default would step
the wrapped scheduler ``num_processes`` times per update, so a schedule sized in updates would end early on several
processes. Step ``k`` of the schedule is therefore the ``k``-th optimizer update, whatever ``--gradient_accumulation_steps``
and the number of processes; ``--max_train_steps`` and ``--num_warmup_steps`` are counted in optimizer updates too.

Resuming
--------
Every ``--checkpointing_steps`` updates, ``accelerator.save_state`` writes ``OUTPUT_DIR/checkpoints/step_K`` (model,
optimizer, scheduler, RNG states) plus ``trainer_state.json``; the folder is renamed into place only when complete, so
a run killed mid-save leaves the previous checkpoint intact. ``--resume_from_checkpoint PATH|latest`` restores it by
one of two routes (``--resume_method``):

- ``initial_lr`` (the classic route): load the model weights and the optimizer state (which carries each parameter
  group's ``initial_lr``), then build the scheduler with ``completed_steps=K`` (torch's ``last_epoch=K-1``). The saved
  scheduler state is not read at all: the closed-form schedule needs nothing but the update count.
- ``state``: ``accelerator.load_state`` restores everything, the scheduler through ``ScheduleLR.load_state_dict``
  (which refuses a checkpoint made with a different schedule configuration).

Both skip the batches of the current epoch that were already seen (``accelerator.skip_first_batches``). Data order
is a function of ``--seed`` and the epoch (Accelerate's seedable sampler), and dropout is reseeded before every batch
from ``(seed, epoch, batch, rank)``, so a resumed run computes exactly what an uninterrupted one does.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

import hf_lr

logger = logging.getLogger("finetune")

CHECKPOINTS_DIRNAME = "checkpoints"
TRAINER_STATE_NAME = "trainer_state.json"
LR_TRAJECTORY_NAME = "lr_trajectory.csv"
LOSS_TRAJECTORY_NAME = "loss_trajectory.csv"
METRICS_NAME = "metrics.json"

# --------------------------------------------------------------------------------------------------------------------
# A custom schedule name, registered the way users add their own (module level, so that it pickles).
# --------------------------------------------------------------------------------------------------------------------
CUSTOM_SCHEDULE_NAME = "warmup_exponential_decay"


def warmup_exponential_decay(step: int, *, num_warmup_steps: int, num_training_steps: int, final_ratio: float = 0.05) -> float:
    """Linear warmup to 1, then exponential decay reaching `final_ratio` at `num_training_steps`."""
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    decay_steps = max(1, num_training_steps - num_warmup_steps)
    progress = min(1.0, (step - num_warmup_steps) / decay_steps)
    return final_ratio**progress


def register_example_schedules() -> None:
    """Register the example's own schedule name (idempotent: a second call leaves the registry as it is)."""
    if CUSTOM_SCHEDULE_NAME not in hf_lr.list_schedules():
        hf_lr.register_schedule(CUSTOM_SCHEDULE_NAME, warmup_exponential_decay)


# --------------------------------------------------------------------------------------------------------------------
# Built-in offline data and model: no download, deterministic, learnable.
# --------------------------------------------------------------------------------------------------------------------
POSITIVE_WORDS = ["good", "great", "fine", "superb", "lovely", "happy", "brilliant", "enjoyable"]
NEGATIVE_WORDS = ["bad", "awful", "poor", "boring", "sad", "terrible", "dull", "annoying"]
NEUTRAL_WORDS = [
    "the", "a", "movie", "film", "plot", "actor", "scene", "was", "is", "very", "quite", "story", "music", "and",
    "ending", "cast", "really", "it", "this", "director", "script", "of", "with", "some", "rather", "score",
]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
BUILTIN_DATA_SEED = 1234  # fixed: the built-in data set never depends on --seed


def builtin_examples(num_examples: int, rng: np.random.Generator) -> dict[str, list[Any]]:
    """Sentences of neutral filler with one to three sentiment words; the label is the majority sentiment."""
    texts, labels = [], []
    for _ in range(num_examples):
        label = int(rng.integers(2))
        n_major = int(rng.integers(1, 4))
        n_minor = int(rng.integers(0, n_major))  # strictly fewer words of the other polarity
        major, minor = (POSITIVE_WORDS, NEGATIVE_WORDS) if label == 1 else (NEGATIVE_WORDS, POSITIVE_WORDS)
        words = list(rng.choice(NEUTRAL_WORDS, size=int(rng.integers(4, 12))))
        words += list(rng.choice(major, size=n_major)) + list(rng.choice(minor, size=n_minor))
        rng.shuffle(words)
        texts.append(" ".join(str(w) for w in words))
        labels.append(label)
    return {"text": texts, "label": labels}


def builtin_datasets(num_train: int, num_eval: int):
    import datasets

    rng = np.random.default_rng(BUILTIN_DATA_SEED)
    train = datasets.Dataset.from_dict(builtin_examples(num_train, rng))
    evaluation = datasets.Dataset.from_dict(builtin_examples(num_eval, rng))
    return datasets.DatasetDict({"train": train, "validation": evaluation})


def builtin_tokenizer():
    """A word-level tokenizer over the built-in vocabulary, built in code (nothing to download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


def builtin_model(vocab_size: int, num_labels: int, pad_token_id: int):
    """A tiny BERT (two layers of width 32) built from a config, randomly initialised from the current seed."""
    from transformers import AutoModelForSequenceClassification, BertConfig

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        num_labels=num_labels,
        pad_token_id=pad_token_id,
    )
    return AutoModelForSequenceClassification.from_config(config)


# --------------------------------------------------------------------------------------------------------------------
# Hub / local data and models (real code, not exercised offline).
# --------------------------------------------------------------------------------------------------------------------
TEXT_COLUMN_CANDIDATES = (("sentence1", "sentence2"), ("question", "sentence"), ("premise", "hypothesis"), ("text",), ("sentence",))


def load_user_datasets(args: argparse.Namespace):
    """`--dataset_name`: a hub data set (with `--dataset_config_name`) or a local .csv/.json/.jsonl file or folder."""
    import datasets

    name = args.dataset_name
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".json", ".jsonl"):
        raw = datasets.load_dataset("csv" if suffix == ".csv" else "json", data_files={"train": name})
    else:
        raw = datasets.load_dataset(name, args.dataset_config_name)
    if "validation" not in raw:
        split = raw["train"].train_test_split(test_size=0.1, seed=args.seed)
        raw = datasets.DatasetDict({"train": split["train"], "validation": split["test"]})
    return raw


def text_columns(args: argparse.Namespace, columns: list[str]) -> tuple[str, ...]:
    if args.text_column:
        return tuple(c.strip() for c in args.text_column.split(","))
    for candidate in TEXT_COLUMN_CANDIDATES:
        if all(c in columns for c in candidate):
            return candidate
    raise ValueError(f"cannot tell the text column(s) among {columns}; pass --text_column (comma-separated for pairs)")


# --------------------------------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------------------------------
def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The data and model flags, shared with lr_find.py: the built-in offline ones by default, or hub/local ones."""
    parser.add_argument("--model_name_or_path", type=str, default=None, help="Hub id or local path (default: tiny built-in BERT).")
    parser.add_argument("--dataset_name", type=str, default=None, help="Hub data set or local csv/json (default: built-in data).")
    parser.add_argument("--dataset_config_name", type=str, default=None)
    parser.add_argument("--text_column", type=str, default=None, help="Text column(s), comma-separated for pairs.")
    parser.add_argument("--label_column", type=str, default="label")
    parser.add_argument("--max_length", type=int, default=128)
    parser.add_argument("--num_train_examples", type=int, default=512, help="Size of the built-in training set.")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--output_dir", type=str, default="outputs/finetune", help="Where checkpoints, CSVs and metrics go."
    )
    parser.add_argument("--seed", type=int, default=42, help="Seed for the model init, data order and dropout.")
    add_data_arguments(parser)
    parser.add_argument("--num_eval_examples", type=int, default=256, help="Size of the built-in evaluation set.")
    parser.add_argument("--per_device_train_batch_size", type=int, default=16)
    parser.add_argument("--per_device_eval_batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=2e-3)
    parser.add_argument(
        "--classifier_learning_rate",
        type=float,
        default=None,
        help="A separate learning rate for the classification head (a third parameter group); default: --learning_rate.",
    )
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument(
        "--lr_scheduler_type",
        type=str,
        default="linear",
        help=f"Any registered hf_lr name (see hf_lr.list_schedules()), e.g. linear, cosine, noam, {CUSTOM_SCHEDULE_NAME}.",
    )
    parser.add_argument("--num_warmup_steps", type=int, default=None, help="Warmup length in optimizer updates.")
    parser.add_argument("--warmup_ratio", type=float, default=None, help="Warmup as a fraction of the updates (ceil).")
    parser.add_argument(
        "--scheduler_kwargs",
        type=json.loads,
        default=None,
        help='The schedule\'s own parameters as JSON, e.g. \'{"num_cycles": 1}\' or \'{"d_model": 32}\'.',
    )
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--max_train_steps", type=int, default=None, help="Optimizer updates; overrides --num_train_epochs.")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--checkpointing_steps", type=int, default=None, help="Save a checkpoint every N optimizer updates.")
    parser.add_argument(
        "--resume_from_checkpoint", type=str, default=None, help="A checkpoint folder, or 'latest' (in OUTPUT_DIR)."
    )
    parser.add_argument("--resume_method", choices=("initial_lr", "state"), default="initial_lr")
    parser.add_argument("--with_tracking", action=argparse.BooleanOptionalAction, default=True, help="TensorBoard logs.")
    parser.add_argument(
        "--expected_num_processes",
        type=int,
        default=None,
        help="Refuse to train unless exactly this many processes take part (guards against launch mistakes).",
    )
    parser.add_argument(
        "--kill_after_step",
        type=int,
        default=None,
        help="Testing aid: every process sends itself SIGKILL right after this optimizer update (simulates a crash).",
    )
    args = parser.parse_args(argv)
    if args.num_warmup_steps is not None and args.warmup_ratio is not None:
        parser.error("pass --num_warmup_steps or --warmup_ratio, not both")
    if args.warmup_ratio is not None and not 0.0 <= args.warmup_ratio <= 1.0:
        parser.error(f"--warmup_ratio must be in [0, 1], got {args.warmup_ratio}")
    for name in ("gradient_accumulation_steps", "num_train_epochs", "per_device_train_batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    for name in ("max_train_steps", "checkpointing_steps"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.scheduler_kwargs is not None and not isinstance(args.scheduler_kwargs, dict):
        parser.error(f"--scheduler_kwargs must be a JSON object, got {args.scheduler_kwargs!r}")
    return args


# --------------------------------------------------------------------------------------------------------------------
# Launch checks: make a multi-process launch a real one, or refuse.
# --------------------------------------------------------------------------------------------------------------------
def launcher_world_size() -> int:
    """The world size a torchrun-style launcher announced (1 when launched as a single process)."""
    for key in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 1


def accelerator_device_available() -> bool:
    accelerator_api = getattr(torch, "accelerator", None)
    if accelerator_api is not None and hasattr(accelerator_api, "is_available"):
        return bool(accelerator_api.is_available())
    return torch.cuda.is_available()


def requested_processes_from_parent() -> int | None:
    """`--num_processes N` of an `accelerate launch` parent process, if there is one (best effort)."""
    try:
        import psutil  # a dependency of accelerate

        parent = psutil.Process(os.getppid())
        cmdline = parent.cmdline()
    except Exception:  # no psutil, no permission, parent gone: nothing to check against
        return None
    text = " ".join(cmdline)
    # `accelerate launch ...` or `python -m accelerate.commands.launch ...`
    if "accelerate" not in text or not any(part == "launch" or part.endswith(".launch") for part in cmdline):
        return None
    match = re.search(r"--num[_-]processes[= ](\d+)", text)
    return int(match.group(1)) if match else None


def use_cpu_for_launch(args: argparse.Namespace) -> bool:
    """Whether the Accelerator must be told `cpu=True` for this launch to become a real multi-process run.

    `accelerate launch --multi_gpu --num_processes N` on a machine without GPUs starts N processes through torchrun,
    but Accelerate only initialises the process group on CPU when told to use the CPU; otherwise every process
    believes it is rank 0 of 1 and they all train the same model on the same data.
    """
    world = launcher_world_size()
    if world > 1 and not accelerator_device_available():
        if os.environ.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true", "yes"):
            logging.getLogger("finetune").warning(
                "launched as %d processes on a machine without GPUs: using the CPU (gloo) so that they form one "
                "training run (ACCELERATE_USE_CPU=1 does this explicitly)",
                world,
            )
        return True
    return False


def check_world(args: argparse.Namespace, num_processes: int) -> None:
    """Refuse launches that would silently duplicate training or run fewer processes than asked for."""
    world = launcher_world_size()
    problems = []
    if world != num_processes:
        problems.append(
            f"the launcher started {world} processes but Accelerate sees {num_processes}: each would train alone "
            "(duplicated training)"
        )
    requested = requested_processes_from_parent()
    if requested is not None and requested != num_processes:
        problems.append(
            f"`accelerate launch` was asked for --num_processes {requested} but this run has {num_processes} "
            "process(es). On a CPU-only machine, `accelerate launch --cpu --num_processes N` starts a single process; "
            "use `ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes N ...` for a real N-process run"
        )
    if args.expected_num_processes is not None and args.expected_num_processes != num_processes:
        problems.append(f"--expected_num_processes {args.expected_num_processes} but this run has {num_processes}")
    if problems:
        raise SystemExit("refusing to train: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------------------------------
# Checkpoints and trajectories
# --------------------------------------------------------------------------------------------------------------------
def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / CHECKPOINTS_DIRNAME / f"step_{step}"


def latest_checkpoint(output_dir: Path) -> Path | None:
    root = output_dir / CHECKPOINTS_DIRNAME
    found = [(int(p.name.split("_")[1]), p) for p in root.glob("step_*") if re.fullmatch(r"step_\d+", p.name)] if root.is_dir() else []
    complete = [(step, p) for step, p in found if (p / TRAINER_STATE_NAME).is_file()]
    return max(complete)[1] if complete else None


def resolve_checkpoint(args: argparse.Namespace) -> Path | None:
    if args.resume_from_checkpoint is None:
        return None
    if args.resume_from_checkpoint == "latest":
        path = latest_checkpoint(Path(args.output_dir))
        if path is None:
            raise SystemExit(f"--resume_from_checkpoint latest: no complete checkpoint under {args.output_dir}/{CHECKPOINTS_DIRNAME}")
        return path
    path = Path(args.resume_from_checkpoint)
    if not (path / TRAINER_STATE_NAME).is_file():
        raise SystemExit(f"--resume_from_checkpoint {path}: not a complete checkpoint (no {TRAINER_STATE_NAME})")
    return path


def save_checkpoint(accelerator, output_dir: Path, state: dict[str, Any]) -> Path:
    """`accelerator.save_state` into a temporary folder, then rename it into place (a crash leaves no half checkpoint)."""
    final = checkpoint_dir(output_dir, state["completed_steps"])
    tmp = final.with_name(final.name + ".tmp")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / TRAINER_STATE_NAME).write_text(json.dumps(state, indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    accelerator.wait_for_everyone()
    return final


class TrajectoryWriter:
    """Appends one row per optimizer update to a CSV; on resume, first drops the rows of updates >= the checkpoint's."""

    def __init__(self, path: Path, header: list[str], keep_before_step: int, enabled: bool) -> None:
        self.enabled = enabled
        self.file = None
        if not enabled:
            return
        rows: list[list[str]] = []
        if keep_before_step > 0 and path.is_file():
            with path.open(newline="") as f:
                reader = csv.reader(f)
                old_header = next(reader, None)
                if old_header != header:
                    raise SystemExit(f"{path} has header {old_header}, this run writes {header}; use another --output_dir")
                rows = [row for row in reader if row and int(row[0]) < keep_before_step]
        self.file = path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(header)
        self.writer.writerows(rows)
        self.file.flush()

    def write(self, step: int, values: list[float]) -> None:
        if self.file is not None:
            self.writer.writerow([step] + [repr(float(v)) for v in values])  # repr: exact round trip
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def dropout_seed(seed: int, epoch: int, batch: int, rank: int) -> int:
    """The seed set before each batch: a resumed run draws the same dropout masks as an uninterrupted one."""
    return int(np.random.SeedSequence([seed, epoch, batch, rank]).generate_state(1)[0])


# --------------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    register_example_schedules()
    logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", level=logging.INFO)

    import datasets
    import transformers
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm
    from transformers import DataCollatorWithPadding

    output_dir = Path(args.output_dir)
    tracking = args.with_tracking and _tensorboard_available()
    accelerator = Accelerator(
        cpu=use_cpu_for_launch(args),
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        # The loop steps the scheduler once per optimizer update itself; see the module docstring.
        step_scheduler_with_optimizer=False,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=args.seed),
        log_with="tensorboard" if tracking else None,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
    )
    try:
        check_world(args, accelerator.num_processes)
        if accelerator.is_main_process:
            output_dir.mkdir(parents=True, exist_ok=True)
        accelerator.wait_for_everyone()
        logger.info(accelerator.state)
        if not accelerator.is_local_main_process:
            datasets.utils.logging.set_verbosity_error()
            transformers.utils.logging.set_verbosity_error()
            logger.setLevel(logging.ERROR)
        metrics = train(args, accelerator, output_dir, tracking, DataLoader, DataCollatorWithPadding, tqdm, set_seed)
    except BaseException:
        # A failing rank must not wait at a barrier (the others may be blocked in a collective): release what is
        # local and leave; the launcher stops the other ranks.
        accelerator.end_training()
        destroy_process_group()
        raise
    # An orderly shutdown: without it a rank sometimes aborts at exit ("terminate called without an active
    # exception") while the interpreter tears the process group down. Dropping the Accelerator's references (the DDP
    # model holds the process group) lets the group really be destroyed here rather than during interpreter teardown.
    accelerator.wait_for_everyone()
    accelerator.end_training()
    accelerator.free_memory()
    destroy_process_group()
    return metrics


def destroy_process_group() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            return False
    return True


def train(args, accelerator, output_dir, tracking, DataLoader, DataCollatorWithPadding, tqdm, set_seed) -> dict[str, Any]:
    set_seed(args.seed)  # the model's initial weights
    resume_path = resolve_checkpoint(args)

    # ---- data, tokenizer, model --------------------------------------------------------------------------------
    with accelerator.main_process_first():
        if args.dataset_name is None:
            raw = builtin_datasets(args.num_train_examples, args.num_eval_examples)
            columns: tuple[str, ...] = ("text",)
        else:
            raw = load_user_datasets(args)
            columns = text_columns(args, raw["train"].column_names)
    label_feature = raw["train"].features[args.label_column]
    if hasattr(label_feature, "names"):
        num_labels = len(label_feature.names)
    else:
        num_labels = len(set(raw["train"][args.label_column]))

    label_to_id = None
    if not hasattr(label_feature, "names") and any(isinstance(v, str) for v in raw["train"][args.label_column]):
        label_to_id = {label: index for index, label in enumerate(sorted(set(raw["train"][args.label_column])))}

    if args.model_name_or_path is None:
        tokenizer = builtin_tokenizer()
        model = builtin_model(len(tokenizer), num_labels, tokenizer.pad_token_id)
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
        model = AutoModelForSequenceClassification.from_pretrained(args.model_name_or_path, num_labels=num_labels)
        if tokenizer.pad_token is None:  # decoder-only models (GPT-2, Llama) have no padding token
            tokenizer.pad_token = tokenizer.eos_token
            model.config.pad_token_id = tokenizer.pad_token_id

    def tokenize(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(*(batch[c] for c in columns), truncation=True, max_length=args.max_length)
        labels = batch[args.label_column]
        encoded["labels"] = [label_to_id[v] for v in labels] if label_to_id is not None else labels
        return encoded

    with accelerator.main_process_first():
        processed = raw.map(tokenize, batched=True, remove_columns=raw["train"].column_names, desc="Tokenizing")
    collator = DataCollatorWithPadding(tokenizer)
    train_dataloader = DataLoader(
        processed["train"], shuffle=True, collate_fn=collator, batch_size=args.per_device_train_batch_size
    )
    eval_dataloader = DataLoader(processed["validation"], collate_fn=collator, batch_size=args.per_device_eval_batch_size)

    # ---- optimizer: decay / no-decay groups as in Transformers' examples, optionally the head apart --------------
    optimizer = torch.optim.AdamW(parameter_groups(model, args), lr=args.learning_rate)

    # ---- resume state --------------------------------------------------------------------------------------------
    completed_steps = 0
    if resume_path is not None:
        trainer_state = json.loads((resume_path / TRAINER_STATE_NAME).read_text())
        completed_steps = int(trainer_state["completed_steps"])
        if args.resume_method == "initial_lr":
            # The classic route: model and optimizer state first (the optimizer's param_groups carry `initial_lr`),
            # then the scheduler is built below with completed_steps (torch: last_epoch=completed_steps - 1).
            load_model_and_optimizer(resume_path, model, optimizer)

    # ---- the schedule, in optimizer updates -----------------------------------------------------------------------
    # Prepare the data loaders first: the number of updates per epoch depends on the per-process shard length.
    train_dataloader, eval_dataloader = accelerator.prepare(train_dataloader, eval_dataloader)
    updates_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    if args.max_train_steps is None:
        max_train_steps = args.num_train_epochs * updates_per_epoch
    else:
        max_train_steps = args.max_train_steps
    num_train_epochs = math.ceil(max_train_steps / updates_per_epoch)
    if args.num_warmup_steps is not None:
        num_warmup_steps = args.num_warmup_steps
    elif args.warmup_ratio is not None:
        num_warmup_steps = math.ceil(args.warmup_ratio * max_train_steps)
    else:
        num_warmup_steps = 0
    entry = hf_lr.get_schedule_entry(args.lr_scheduler_type)
    if completed_steps > max_train_steps:
        raise SystemExit(f"the checkpoint has {completed_steps} updates, more than --max_train_steps={max_train_steps}")
    resume_kwargs = {}
    if resume_path is not None and args.resume_method == "initial_lr" and completed_steps > 0:
        resume_kwargs["completed_steps"] = completed_steps
    lr_scheduler = hf_lr.get_scheduler(
        entry.name,
        optimizer,
        num_warmup_steps=num_warmup_steps if entry.warmup != "unused" else None,
        num_training_steps=max_train_steps if entry.training != "unused" else None,
        scheduler_specific_kwargs=args.scheduler_kwargs,
        **resume_kwargs,
    )
    if isinstance(lr_scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise SystemExit(f"--lr_scheduler_type {entry.name}: steps on a metric, not per update; pick a per-update schedule")
    if resume_path is not None:
        check_resumable(trainer_state, lr_scheduler, accelerator.num_processes, args.gradient_accumulation_steps)

    model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    if resume_path is not None and args.resume_method == "state":
        accelerator.load_state(str(resume_path))
        restored = lr_scheduler.scheduler.last_epoch
        if restored != completed_steps:
            raise SystemExit(f"{resume_path}: scheduler state is at update {restored}, trainer_state.json says {completed_steps}")
    if resume_path is not None:
        accelerator.print(f"resumed from {resume_path} by route {args.resume_method!r} after {completed_steps} updates")

    num_groups = len(optimizer.param_groups)
    rank = accelerator.process_index
    is_main = accelerator.is_main_process
    lr_writer = TrajectoryWriter(output_dir / LR_TRAJECTORY_NAME, ["step"] + [f"lr_{i}" for i in range(num_groups)], completed_steps, is_main)
    loss_writer = TrajectoryWriter(output_dir / LOSS_TRAJECTORY_NAME, ["step", "loss"], completed_steps, is_main)

    run_config = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in vars(args).items() if v is not None}
    if tracking:
        accelerator.init_trackers("finetune", {k: v for k, v in run_config.items() if isinstance(v, (int, float, str, bool))})

    total_batch = args.per_device_train_batch_size * accelerator.num_processes * args.gradient_accumulation_steps
    logger.info(
        "***** Running training: %d examples, %d epochs, batch %d per device, %d per update, %d updates (%d/epoch), "
        "%d processes, schedule %r with %d warmup updates *****",
        len(processed["train"]), num_train_epochs, args.per_device_train_batch_size, total_batch, max_train_steps,
        updates_per_epoch, accelerator.num_processes, entry.name, num_warmup_steps,
    )

    # ---- training loop -------------------------------------------------------------------------------------------
    starting_epoch = completed_steps // updates_per_epoch
    batches_to_skip = (completed_steps % updates_per_epoch) * args.gradient_accumulation_steps
    progress = tqdm(range(max_train_steps), initial=completed_steps, disable=not accelerator.is_local_main_process)
    last_loss = float("nan")
    for epoch in range(starting_epoch, num_train_epochs):
        if completed_steps >= max_train_steps:
            break
        model.train()
        train_dataloader.set_epoch(epoch)  # data order is a function of (seed, epoch)
        first_batch = 0
        epoch_loader = train_dataloader
        if epoch == starting_epoch and batches_to_skip:
            epoch_loader = accelerator.skip_first_batches(train_dataloader, batches_to_skip)
            epoch_loader.set_epoch(epoch)
            first_batch = batches_to_skip
        update_loss = torch.zeros((), device=accelerator.device)
        micro_batches = 0
        for batch_index, batch in enumerate(epoch_loader, start=first_batch):
            torch.manual_seed(dropout_seed(args.seed, epoch, batch_index, rank))
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                update_loss += loss.detach()
                micro_batches += 1
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    # The lr every group uses in this update (the scheduler set it after the previous update).
                    lrs = [float(group["lr"]) for group in optimizer.param_groups]
                optimizer.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:
                continue
            mean_loss = accelerator.reduce(update_loss / micro_batches, reduction="mean").item()
            update_loss.zero_()
            micro_batches = 0
            if accelerator.optimizer_step_was_skipped:  # mixed-precision overflow: no update, no schedule step
                continue
            lr_scheduler.step()  # once per optimizer update, whatever the process count
            step = completed_steps
            completed_steps += 1
            last_loss = mean_loss
            lr_writer.write(step, lrs)
            loss_writer.write(step, [mean_loss])
            if tracking:
                accelerator.log({"train_loss": mean_loss, **{f"lr_{i}": lr for i, lr in enumerate(lrs)}}, step=step)
            progress.update(1)
            progress.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{lrs[0]:.3g}")
            if args.checkpointing_steps and completed_steps % args.checkpointing_steps == 0:
                save_checkpoint(
                    accelerator,
                    output_dir,
                    {
                        "completed_steps": completed_steps,
                        "epoch": epoch,
                        "lr_scheduler_type": entry.name,
                        "max_train_steps": max_train_steps,
                        "num_warmup_steps": num_warmup_steps,
                        "num_processes": accelerator.num_processes,
                        "gradient_accumulation_steps": args.gradient_accumulation_steps,
                        "schedules": schedule_record(lr_scheduler.scheduler),
                    },
                )
            if args.kill_after_step is not None and completed_steps == args.kill_after_step:
                lr_writer.close()
                loss_writer.close()
                os.kill(os.getpid(), signal.SIGKILL)
            if completed_steps >= max_train_steps:
                break
    progress.close()
    lr_writer.close()
    loss_writer.close()

    # ---- evaluation ----------------------------------------------------------------------------------------------
    model.eval()
    correct, seen, loss_sum = 0, 0, 0.0
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        logits, labels = accelerator.gather_for_metrics((outputs.logits, batch["labels"]))
        losses = torch.nn.functional.cross_entropy(logits.float(), labels, reduction="none")
        correct += int((logits.argmax(-1) == labels).sum())
        seen += int(labels.numel())
        loss_sum += float(losses.sum())
    metrics = {
        "eval_accuracy": correct / max(1, seen),
        "eval_loss": loss_sum / max(1, seen),
        "eval_examples": seen,
        "num_processes": accelerator.num_processes,
        "world_size": torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1,
        "optimizer_updates": completed_steps,
        "max_train_steps": max_train_steps,
        "num_warmup_steps": num_warmup_steps,
        "lr_scheduler_type": entry.name,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "final_train_loss": last_loss,
        "resumed_from": None if resume_path is None else str(resume_path),
        "resume_method": None if resume_path is None else args.resume_method,
    }
    logger.info("eval: %s", {k: metrics[k] for k in ("eval_accuracy", "eval_loss", "optimizer_updates")})
    if tracking:
        accelerator.log({"eval_accuracy": metrics["eval_accuracy"], "eval_loss": metrics["eval_loss"]}, step=completed_steps)
    if is_main:
        (output_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2))
    return metrics


def json_safe(value: Any) -> Any:
    """The value as JSON would give it back (tuples become lists), for comparisons with a loaded trainer state."""
    return json.loads(json.dumps(value))


def schedule_record(scheduler: Any) -> Any:
    """Every group's schedule configuration (hf_lr's ``ScheduleLR``), or None for other schedulers."""
    configs = getattr(scheduler, "schedule_configs", None)
    return json_safe(configs()) if configs is not None else None


def check_resumable(trainer_state: dict[str, Any], lr_scheduler: Any, num_processes: int, accumulation: int) -> None:
    """Refuse to resume with another schedule; warn when the data position cannot be reproduced exactly.

    The ``initial_lr`` route never reads the saved scheduler state, so it would silently switch curves if the flags
    changed; the ``state`` route is protected by ``ScheduleLR.load_state_dict`` too, and this check comes first.
    """
    saved = trainer_state.get("schedules")
    live = schedule_record(lr_scheduler)
    if saved != live:
        raise SystemExit(
            "refusing to resume: the checkpoint was trained with another schedule configuration.\n"
            f"  saved: {saved}\n  now:   {live}\n"
            "Pass the same --lr_scheduler_type, --num_warmup_steps/--warmup_ratio, --max_train_steps/--num_train_epochs "
            "and --scheduler_kwargs as the interrupted run."
        )
    before = (trainer_state.get("num_processes"), trainer_state.get("gradient_accumulation_steps"))
    if before != (num_processes, accumulation):
        logger.warning(
            "resuming with %d process(es) and accumulation %d, the checkpoint used %s and %s: the schedule still "
            "continues at the right update, but the batches skipped in the current epoch are not exactly those seen",
            num_processes, accumulation, *before,
        )


def parameter_groups(model: torch.nn.Module, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Group 0: weights with decay; group 1: biases and norms; group 2 (with --classifier_learning_rate): the head."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    head_names: set[str] = set()
    if args.classifier_learning_rate is not None:
        head = getattr(model, "classifier", None) or getattr(model, "score", None)
        if head is None:
            raise SystemExit("--classifier_learning_rate: the model has no `classifier` or `score` head")
        head_ids = {id(p) for p in head.parameters()}
        head_names = {n for n, p in model.named_parameters() if id(p) in head_ids}
    body = [(n, p) for n, p in model.named_parameters() if n not in head_names]
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in body if not any(nd in n for nd in no_decay)], "weight_decay": args.weight_decay},
        {"params": [p for n, p in body if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    if head_names:
        head_params = [p for n, p in model.named_parameters() if n in head_names]
        groups.append({"params": head_params, "weight_decay": args.weight_decay, "lr": args.classifier_learning_rate})
    return groups


def load_model_and_optimizer(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Load the weights and optimizer state that `accelerator.save_state` wrote (before `accelerator.prepare`)."""
    from accelerate.utils import OPTIMIZER_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_NAME

    safe_weights = path / SAFE_WEIGHTS_NAME
    if safe_weights.is_file():
        from safetensors.torch import load_file

        state = load_file(str(safe_weights))
    else:
        state = torch.load(path / f"{WEIGHTS_NAME}", map_location="cpu", weights_only=True)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # save_state drops weights tied to others (e.g. shared embeddings); anything else missing is an error.
    tied = set(getattr(model, "_tied_weights_keys", None) or ())
    really_missing = [key for key in missing if key not in tied]
    if really_missing or unexpected:
        raise SystemExit(f"{path}: model weights do not match (missing {really_missing}, unexpected {unexpected})")
    optimizer_state = torch.load(path / f"{OPTIMIZER_NAME}.bin", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(optimizer_state)
    for index, group in enumerate(optimizer.param_groups):
        if "initial_lr" not in group:
            raise SystemExit(f"{path}: optimizer param_groups[{index}] has no 'initial_lr'; was it saved by this script?")


def exit_now_if_distributed(code: int = 0) -> None:
    """Leave a multi-process run without interpreter teardown, once everything is written and closed.

    Even after the orderly shutdown in :func:`main`, a rank of a gloo run was seen to abort at exit with
    ``terminate called without an active exception`` (1 run in about 100 on torch 2.13): a C++ background thread
    racing with Python's finalisation. Nothing is left to flush at this point, so a launched worker skips the teardown.
    """
    if launcher_world_size() > 1:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
    exit_now_if_distributed(0)
