"""A binary classifier's decision function served as scikit-learn gives it: one column.

skl2onnx answers a binary decision function with two columns, and which of them is
scikit-learn's own (score > 0 means classes_[1]) depends on the converter: SVC's first column
is it, a linear model's second. The column is chosen by running the graph on the parity rows,
and kept with a Gather; the parity gate then proves the choice like any other output.
"""

from __future__ import annotations

import numpy as np
from onnx import ModelProto, helper, numpy_helper

SCORES = "decision_function"


def one_binary_column(onx: ModelProto, session, feeds: dict, expected: np.ndarray) -> ModelProto:
    """``onx`` with its score output (the second) cut to the column closest to ``expected``."""
    scores = np.asarray(session.run([onx.graph.output[1].name], feeds)[0], dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != 2 or expected.ndim != 1:
        return onx
    column = int(np.argmin([np.nanmax(np.abs(scores[:, c] - expected)) for c in (0, 1)]))
    cut = ModelProto()
    cut.CopyFrom(onx)
    graph = cut.graph
    source = graph.output[1]
    index = f"{SCORES}_column"
    graph.initializer.append(numpy_helper.from_array(np.asarray(column, dtype=np.int64), index))
    graph.node.append(helper.make_node("Gather", [source.name, index], [SCORES], axis=1, name=f"{SCORES}_gather"))
    element = source.type.tensor_type.elem_type
    graph.output.remove(source)
    graph.output.insert(1, helper.make_tensor_value_info(SCORES, element, [None]))
    return cut
