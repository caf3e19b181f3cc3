"""The demo case's reading of task times: which tasks make a gated step, and the gate's share."""

from __future__ import annotations

from bench.peers.demo import gx_shares


def test_gate_share_per_ingest_source_and_per_warehouse_run() -> None:
    rows = [
        ("ingest__credit_bureau", "r1", "bureau_reports.wait_for_landing", 50.0),
        ("ingest__credit_bureau", "r1", "bureau_reports.load_bronze", 6.0),
        ("ingest__credit_bureau", "r1", "bureau_reports.validate_bronze", 3.0),
        ("ingest__credit_bureau", "r1", "bureau_reports.publish_bronze", 1.0),
        ("ingest__loan_origination", "r1", "loans.load_bronze", 9.0),
        ("ingest__loan_origination", "r1", "loans.validate_bronze", 1.0),
        ("transform__warehouse", "r1", "pin_bronze", 1.0),
        ("transform__warehouse", "r1", "dbt.staging", 4.0),
        ("transform__warehouse", "r1", "dbt.marts", 3.0),
        ("transform__warehouse", "r1", "validate_warehouse", 2.0),
        ("transform__warehouse", "r1", "check_source_freshness", 30.0),
    ]
    shares = {(s["dag"], s["subject"]): s["share"] for s in gx_shares(rows)}
    # the sensor's wait and the freshness check are not part of a gated step
    assert shares == {
        ("ingest__credit_bureau", "bureau_reports"): 0.3,
        ("ingest__loan_origination", "loans"): 0.1,
        ("transform__warehouse", "warehouse"): 0.2,
    }


def test_a_step_without_its_gate_has_no_share() -> None:
    rows = [("ingest__credit_bureau", "r1", "bureau_reports.load_bronze", 6.0)]
    assert gx_shares(rows) == []
