"""``creditlake reproduce``: rebuild a registered model's training set and compare its hash.

A version of a model (``credit_pd``, ``fraud``) carries its lineage as tags (:mod:`ml.lineage`):
the snapshot of every bronze table the warehouse read, the dbt project's hash and the content hash
of the rows it was trained on. Reproducing pins a scratch warehouse's bronze views to those
snapshots (Iceberg time travel: later deliveries and re-runs are invisible), builds the training
set with dbt for every delivery date up to the version's as-of date (each date owns its own slice
of the marts), reads it as training does and hashes it the same way."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from creditlake.settings import DBT_MANIFEST_PATH, Settings


class ReproduceError(RuntimeError):
    """The version has no recorded lineage, or its snapshots no longer exist."""


@dataclass(frozen=True)
class Reproduction:
    model: str
    version: str
    as_of_date: str
    logged_sha256: str
    rebuilt_sha256: str
    logged_rows: int
    rebuilt_rows: int
    project_changed: bool

    @property
    def matches(self) -> bool:
        return self.logged_sha256 == self.rebuilt_sha256

    def lines(self) -> list[str]:
        verdict = "REPRODUCED" if self.matches else "DIFFERENT"
        lines = [
            f"{self.model} version {self.version} (as of {self.as_of_date}): {verdict}",
            f"  logged at training: {self.logged_sha256}  ({self.logged_rows} rows)",
            f"  rebuilt now:        {self.rebuilt_sha256}  ({self.rebuilt_rows} rows)",
        ]
        if self.project_changed:
            lines.append(
                "  note: the dbt project changed since training (manifest hash differs); the "
                "rebuild used today's models"
            )
        return lines


def reproduce(model: str, version: str, settings: Settings) -> Reproduction:
    """Rebuild ``model`` ``version``'s training set from its logged snapshots; compare hashes."""
    from creditlake.lake import Lake, LakeError
    from creditlake.ledger import PUBLISHED, deliveries
    from ml.data import read_training_set
    from ml.lineage import TrainingLineage, manifest_sha256, training_set_sha256
    from ml.names import model_target
    from ml.tracking import configure_mlflow
    from orchestration.dbt import run_dbt

    try:
        target = model_target(model)
    except KeyError as error:
        raise ReproduceError(error.args[0]) from None
    training_model = target.training_table.split(".")[-1]
    client = configure_mlflow(settings)
    try:
        registered = client.get_model_version(model, str(version))
    except Exception as error:  # mlflow raises its own RestException / MlflowException
        raise ReproduceError(f"{model} version {version} is not in the registry: {error}") from None
    tags = dict(registered.tags)
    try:
        lineage = TrainingLineage.from_tags(tags)
    except KeyError as error:
        raise ReproduceError(f"{model} version {version}: {error.args[0]}") from None
    as_of_date = dt.date.fromisoformat(tags["as_of_date"])
    dates = sorted(
        {
            d.as_of_date
            for d in deliveries(Lake.from_settings(settings))
            if d.status == PUBLISHED and d.as_of_date <= as_of_date
        }
    )
    with tempfile.TemporaryDirectory(prefix="creditlake-reproduce-") as scratch:
        rebuilt = dataclasses.replace(settings, warehouse_path=Path(scratch) / "reproduce.duckdb")
        for date in dates:  # each date owns its slice of the marts: build every one up to D
            try:
                run_dbt(
                    ["run", "--quiet", "--select", f"+{training_model}"],
                    rebuilt,
                    date,
                    snapshots=lineage.snapshots,
                )
            except LakeError as error:  # a snapshot past the lake's retention
                raise ReproduceError(f"{model} version {version}: {error}") from None
        rows, digest = training_set_sha256(
            read_training_set(rebuilt.warehouse_path, as_of_date, target)
        )
    return Reproduction(
        model=model,
        version=str(version),
        as_of_date=as_of_date.isoformat(),
        logged_sha256=lineage.training_set_sha256,
        rebuilt_sha256=digest,
        logged_rows=lineage.training_set_rows,
        rebuilt_rows=rows,
        project_changed=manifest_sha256(DBT_MANIFEST_PATH) != lineage.manifest_sha256,
    )
