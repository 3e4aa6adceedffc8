"""Plumbing shared by the examples, kept out of the lessons.

- :mod:`helpers.task`: the data, model and batch flags; the offline built-in data, tokenizer and model; csv/json
  files; the AdamW parameter groups;
- :mod:`helpers.launch`: one-line flag errors, multi-process launch checks, the output-directory lock, the launcher
  watchdog and the orderly shutdown;
- :mod:`helpers.checkpoints`: checkpoints with a checksummed manifest, verified on resume (``latest`` falls back to
  the newest intact one);
- :mod:`helpers.records`: what a run writes besides checkpoints (CSV trajectories, TensorBoard, metrics, predictions),
  truncated on resume so that every update appears once.

Only the standard library is imported here; torch, Accelerate, Transformers and ``datasets`` are imported where used.
"""
