"""The activation memory a .tflite model needs for one input: the bytes of every
intermediate tensor, and the most of them alive at once in the file's execution order.

The second figure is the least any arena planner can allocate for that input (TFLite's
arena and XNNPACK's workspace add alignment and fragmentation on top; weights are not
counted). It separates what a model's extra operators cost in activations from what
its weights save, which process RSS mixes together. Imports only numpy and LiteRT, like
the footprint probe that calls it.
"""

from __future__ import annotations

import numpy as np

from converters.flatbuffer import load_model


def peak_live_bytes(operators, sizes: dict[int, int], graph_inputs, graph_outputs) -> int:
    """``operators``: (input indices, output indices) per operator, in execution order;
    ``sizes``: bytes of the tensors that count. A tensor is alive from the operator that
    writes it (or the start, for a graph input) to the last one that reads it (or the end,
    for a graph output); an operator's inputs and outputs are alive together."""
    end = max(len(operators) - 1, 0)
    first = {t: 0 for t in graph_inputs if t in sizes}
    last = dict(first)
    for step, (inputs, outputs) in enumerate(operators):
        for t in outputs:
            if t in sizes:
                first.setdefault(t, step)
                last.setdefault(t, step)
        for t in inputs:
            if t in sizes:
                first.setdefault(t, 0)  # read but never written here: present from the start
                last[t] = step
    for t in graph_outputs:
        if t in sizes:
            first.setdefault(t, end)
            last[t] = end
    change = np.zeros(end + 2, np.int64)
    for t, start in first.items():
        change[start] += sizes[t]
        change[last[t] + 1] -= sizes[t]
    return int(np.cumsum(change).max(initial=0))


def activation_bytes(path: str, samples: int | None) -> dict:
    """Run ``path`` once on zeros ([1, samples] audio for a model that takes any length,
    the stored shapes otherwise) with LiteRT's builtin kernels only, so that TFLite itself
    resolves every tensor's shape, and measure its intermediate tensors."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=path,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    inputs = interpreter.get_input_details()
    if samples is not None and len(inputs) == 1:
        interpreter.resize_tensor_input(inputs[0]["index"], [1, samples])
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
    with open(path, "rb") as file:
        model = load_model(file.read(), path)
    subgraph = model.subgraphs[0]
    constant = {i for i, tensor in enumerate(subgraph.tensors)
                if model.buffers[tensor.buffer].data is not None and len(model.buffers[tensor.buffer].data)}
    sizes = {d["index"]: int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize
             for d in interpreter.get_tensor_details()
             if d["index"] < len(subgraph.tensors) and d["index"] not in constant}
    operators = [(list(op.inputs), list(op.outputs)) for op in subgraph.operators]
    return {"peak_live_bytes": peak_live_bytes(operators, sizes, subgraph.inputs, subgraph.outputs),
            "intermediate_bytes": sum(sizes.values()), "tensors": len(sizes)}
