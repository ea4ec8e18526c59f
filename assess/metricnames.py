"""Names that hold a model's quality (rmse, auc, val_loss …), for gates in Python and in shell alike."""

from __future__ import annotations

import re

METRIC = re.compile(
    r"(rmse|mse|mae|mape|r2|auc|acc|f1|precision|recall|loss|score|metric|error|threshold|tolerance|champion|best)",
    re.IGNORECASE,
)
# A name ending in one of these is a label, not a number: `exc.error_code != "..."` is error handling.
NOT_A_NUMBER = re.compile(r"(code|message|msg|type|name|kind|status|text|class|id|path|url)$", re.IGNORECASE)


def names_a_metric(name: str) -> bool:
    return bool(METRIC.search(name)) and not NOT_A_NUMBER.search(name.rsplit(".", 1)[-1])
