"""Layer-wise learning-rate decay groups for Transformers models, followed by every schedule."""

from __future__ import annotations

import pytest
import torch
from transformers import (
    BartConfig,
    BartForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
)

import hf_lr


def bert(layers: int = 3) -> BertForSequenceClassification:
    return BertForSequenceClassification(
        BertConfig(
            vocab_size=30,
            hidden_size=8,
            num_hidden_layers=layers,
            num_attention_heads=2,
            intermediate_size=8,
            max_position_embeddings=16,
        )
    )


def gpt2() -> GPT2LMHeadModel:
    return GPT2LMHeadModel(
        GPT2Config(n_embd=8, n_layer=2, n_head=2, vocab_size=30, n_positions=16, bos_token_id=0, eos_token_id=0)
    )


def bart() -> BartForSequenceClassification:
    config = BartConfig(
        d_model=8,
        encoder_layers=2,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=8,
        decoder_ffn_dim=8,
        vocab_size=30,
        max_position_embeddings=16,
    )
    return BartForSequenceClassification(config)


@pytest.mark.parametrize("make", [bert, gpt2, bart], ids=["bert", "gpt2", "bart"])
def test_every_trainable_parameter_is_in_exactly_one_group(make: object) -> None:
    model = make()  # type: ignore[operator]
    groups = hf_lr.layerwise_lr_decay(model, lr=1e-3, decay=0.8, weight_decay=0.01)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {id(p) for p in model.parameters() if p.requires_grad}  # tied weights count once
    torch.optim.AdamW(groups)  # a valid optimizer specification


def test_learning_rates_decay_by_depth_and_norms_and_biases_get_no_weight_decay() -> None:
    model = bert(layers=3)
    groups = hf_lr.layerwise_lr_decay(model, lr=1.0, decay=0.5, weight_decay=0.1)
    by_param = {id(p): g for g in groups for p in g["params"]}
    names = dict(model.named_parameters())
    assert by_param[id(names["classifier.weight"])]["lr"] == 1.0
    assert by_param[id(names["bert.pooler.dense.weight"])]["lr"] == 1.0
    for layer in range(3):
        assert by_param[id(names[f"bert.encoder.layer.{layer}.attention.self.query.weight"])]["lr"] == 0.5 ** (
            3 - layer
        )
    assert by_param[id(names["bert.embeddings.word_embeddings.weight"])]["lr"] == 0.5**4
    for name, param in names.items():
        expected = 0.0 if name.endswith("bias") or "LayerNorm" in name else 0.1
        assert by_param[id(param)]["weight_decay"] == expected, name


def test_encoder_then_decoder_order() -> None:
    layers = hf_lr.param_groups.find_layers(bart())
    assert layers == ["model.encoder.layers.0", "model.encoder.layers.1", "model.decoder.layers.0"]


def test_each_group_follows_the_schedule_from_its_own_lr() -> None:
    base = [g["lr"] for g in hf_lr.layerwise_lr_decay(bert(layers=2), lr=1e-3, decay=0.5)]
    optimizer = torch.optim.SGD(hf_lr.layerwise_lr_decay(bert(layers=2), lr=1e-3, decay=0.5), lr=1e-3)
    scheduler = hf_lr.get_scheduler("polynomial", optimizer, 2, 10, {"lr_end": 1e-5})
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    # As in Transformers, lr_end is the reference group's end (defaults["lr"] = the top group's 1e-3): ratios are kept
    assert scheduler.get_last_lr() == pytest.approx([lr * 1e-5 / 1e-3 for lr in base], rel=1e-12)
    optimizer = torch.optim.SGD(hf_lr.layerwise_lr_decay(bert(layers=2), lr=1e-3, decay=0.5), lr=1.0)
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 0, 10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([lr * 0.5 for lr in base], rel=1e-12)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"`decay` must be <= 1\.0, got decay=1\.5"):
        hf_lr.layerwise_lr_decay(bert(), lr=1e-3, decay=1.5)
    with pytest.raises(ValueError, match="has no module list named one of"):
        hf_lr.layerwise_lr_decay(torch.nn.Linear(2, 2), lr=1e-3, decay=0.5)
