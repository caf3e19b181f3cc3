"""ml.gate: the champion gate's rules (the real runs in test_train.py exercise its aliases)."""

from __future__ import annotations

import pytest

from ml import gate

GATE = {"min_auc": 0.65, "min_ks": 0.20, "max_auc_drop": 0.005}


@pytest.mark.parametrize(
    ("auc", "ks", "champion_auc", "promoted", "reason_part"),
    [
        (0.75, 0.35, None, True, "no current champion"),
        (0.64, 0.35, None, False, "AUC 0.6400 < minimum 0.6500"),
        (0.75, 0.19, None, False, "KS 0.1900 < minimum 0.2000"),
        (0.75, 0.35, 0.76, False, "current champion's 0.7600"),
        (0.756, 0.35, 0.76, True, "same rows is 0.7600"),  # within the allowed drop
        (0.75, 0.35, 0.70, True, "same rows is 0.7000"),
        (0.60, 0.10, 0.80, False, "minimum 0.6500; out-of-time KS"),
    ],
)
def test_gate_rules(auc, ks, champion_auc, promoted, reason_part) -> None:
    decision, reason = gate.gate(auc, ks, champion_auc, **GATE)
    assert decision is promoted
    assert reason_part in reason
