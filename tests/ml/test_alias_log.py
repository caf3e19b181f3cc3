"""ml.alias_log and ``creditlake models``: every alias move is logged, by the gate or a person."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditlake.lake import Lake
from ml import alias_log
from ml.tracking import configure_mlflow
from orchestration.cli import main as cli

MODEL = "audit_demo"


@pytest.fixture
def registry(ml_settings, tmp_path) -> MlflowClient:
    """A registered model with three versions (no artifacts: only aliases move here)."""
    client = configure_mlflow(ml_settings)
    client.create_registered_model(MODEL)
    for _ in range(3):
        client.create_model_version(MODEL, source=(tmp_path / "model").as_uri())
    return client


def _rows(lake: Lake) -> list[tuple]:
    return [
        (m.alias, m.from_version, m.to_version, m.action, m.outcome)
        for m in alias_log.history(lake, MODEL)
    ]


def test_promote_and_rollback_by_hand_are_logged_like_the_gate(
    ml_settings, registry, capsys
) -> None:
    lake = Lake.from_settings(ml_settings)
    gate = {"candidate_oot_auc": 0.81}
    alias_log.move_alias(
        registry, lake, MODEL, "champion", "1", action="gate", actor="run:a", reason="r", gate=gate
    )
    cli(["models", "promote", MODEL, "2", "--reason", "committee decision 2026-11"])
    assert registry.get_model_version_by_alias(MODEL, "champion").version == 2
    cli(["models", "rollback", MODEL, "--reason", "v2 misprices new citizens"])
    assert registry.get_model_version_by_alias(MODEL, "champion").version == 1

    assert _rows(lake) == [
        ("champion", None, "1", "gate", "moved"),
        ("champion", "1", "2", "promote", "moved"),
        ("champion", "2", "1", "rollback", "moved"),
    ]
    manual = alias_log.history(lake, MODEL)[-1]
    assert manual.actor.startswith("user:")
    assert manual.reason == "v2 misprices new citizens"
    assert alias_log.history(lake, MODEL)[0].to_dict()["gate"] == gate
    printed = capsys.readouterr().out
    assert "committee decision 2026-11" in printed
    assert "registry: agrees with the log" in printed


def test_a_move_without_a_reason_is_refused_and_nothing_moves(ml_settings, registry) -> None:
    lake = Lake.from_settings(ml_settings)
    with pytest.raises(alias_log.AliasLogError, match="needs a reason"):
        alias_log.move_alias(
            registry, lake, MODEL, "champion", "1", action="promote", actor="u", reason=" "
        )
    assert alias_log.history(lake, MODEL) == []
    assert alias_log.current_holder(registry, MODEL, "champion") is None


def test_rollback_without_an_earlier_holder_names_the_problem(ml_settings, registry, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli(["models", "rollback", MODEL, "--reason", "undo"])
    assert stopped.value.code == 2
    assert "no earlier holder of 'champion'" in capsys.readouterr().err


def test_an_unknown_version_is_refused_before_anything_is_logged(
    ml_settings, registry, capsys
) -> None:
    lake = Lake.from_settings(ml_settings)
    with pytest.raises(SystemExit) as stopped:
        cli(["models", "promote", MODEL, "99", "--reason", "typo"])
    assert stopped.value.code == 2
    assert "version=99" in capsys.readouterr().err
    assert alias_log.history(lake, MODEL) == []


def test_a_move_that_fails_after_it_was_logged_gets_a_failed_row(
    ml_settings, registry, monkeypatch
) -> None:
    lake = Lake.from_settings(ml_settings)

    def registry_down(*args):
        raise MlflowException("tracking server unavailable")

    monkeypatch.setattr(registry, "set_registered_model_alias", registry_down)
    with pytest.raises(MlflowException):
        alias_log.move_alias(
            registry, lake, MODEL, "champion", "2", action="promote", actor="u", reason="why"
        )
    assert [row[-1] for row in _rows(lake)] == ["moved", "failed"]
    moves = alias_log.history(lake, MODEL)
    assert "tracking server unavailable" in moves[1].reason
    assert alias_log.logged_holders(moves) == {}  # the failed row undoes the logged intent
    assert alias_log.discrepancies(registry, MODEL, moves) == []


def test_a_logged_move_that_never_happened_is_reported(ml_settings, registry) -> None:
    """A crash between the log and the move: the registry check says so."""
    lake = Lake.from_settings(ml_settings)
    intent = alias_log.AliasMove(MODEL, "champion", None, "2", "promote", "moved", "u", "crash")
    alias_log._append(lake, intent)
    problems = alias_log.discrepancies(registry, MODEL, alias_log.history(lake, MODEL))
    assert problems == [
        f"{MODEL}@champion: the registry has version None, the audit log 2 (a move made "
        "outside creditlake, or one that did not finish)"
    ]


def test_a_move_made_behind_the_log_is_reported(ml_settings, registry, capsys) -> None:
    lake = Lake.from_settings(ml_settings)
    alias_log.move_alias(
        registry, lake, MODEL, "champion", "1", action="gate", actor="run:a", reason="passed"
    )
    registry.set_registered_model_alias(MODEL, "champion", "3")  # not through creditlake
    with pytest.raises(SystemExit) as stopped:
        cli(["models", "history", MODEL])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "DISAGREES" in out
    assert f"{MODEL}@champion: the registry has version 3, the audit log 1" in out
