"""bench.model_size end to end on the host, on a tiny model: both forms converted, measured in
fresh processes, and reported."""

from __future__ import annotations

import json

from lambda_tabular.bench import model_size


def test_model_size_measures_both_forms(tmp_path):
    model_size.main(["--out", str(tmp_path), "--models", "xgboost-5", "--trees", "", "--repeat", "1", "--where", "host"])

    report = json.loads((tmp_path / "results.json").read_text())
    assert report["where"].startswith("on the host")
    forms = {r["form"]: r for r in report["results"]}
    assert forms["legacy"]["tree_form"] == "TreeEnsembleClassifier-opset3"
    assert forms["rewritten"]["tree_form"] == "TreeEnsemble-opset5"
    for result in forms.values():
        assert result["parity"]["passed"]
        assert result["file_mb"] > 0
        for key in model_size.QUANTITIES[1:]:
            assert result[key]["n"] == 1 and result[key]["median"] > 0
    assert forms["rewritten"]["file_mb"] < forms["legacy"]["file_mb"]
    table = (tmp_path / "results.md").read_text()
    assert "| xgboost-5 (XGBClassifier) | TreeEnsemble-opset5 |" in table
    assert "| xgboost | 5 | TreeEnsembleClassifier-opset3 |" in table
