"""A shipped ONNX model that also returns its latent layer: the analysis table of a model that ships
no Keras file (``bert-int8``, quantized by ``imdb-leap quantize``, exists only as ONNX).

The latent layer is found by name: tf2onnx names each tensor after the Keras layer that made it
(``bert_1/latent_1/truediv:0``), and the quantizer keeps the float tensors' names, adding its own
suffixes (``..._quantized``, ``..._scale``) to the tensors it creates. The last ``/latent`` tensor
ending in ``:0`` is the layer's output, the input of the logits. It becomes a second graph output
of an in-memory copy; the file is not changed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from IMDb.errors import ModelError
from IMDb.measures.scores import probabilities


class OnnxLatent:
    """`predict_on_batch(inputs) -> (latent [n, d], probabilities [n, 2])` through ONNX Runtime, the
    call `IMDb.analysis.table` makes of a Keras latent sub-model."""

    def __init__(self, path: str | Path, temperature: float | None = None):
        import onnx
        import onnxruntime as ort

        proto = onnx.load(str(path))
        found = [t for node in proto.graph.node for t in node.output if "/latent" in t and t.endswith(":0")]
        if not found:
            raise ModelError(f"{path} has no tensor of a layer named 'latent': the analysis needs it")
        proto.graph.output.append(onnx.helper.make_tensor_value_info(found[-1], onnx.TensorProto.FLOAT, None))
        self.session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, i.shape[-1]) for i in self.session.get_inputs()]
        self.temperature = temperature

    def predict_on_batch(self, inputs: np.ndarray | list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """`inputs` (one array, or a list in the model's input order), zero-padded at the end to its fixed length (the
        padding every tokenizer here uses: id 0, mask 0)."""
        feed = {}
        inputs = [inputs] if isinstance(inputs, np.ndarray) else inputs
        for (name, length), x in zip(self.inputs, inputs):
            x = np.asarray(x, dtype=np.float32)
            if isinstance(length, int) and x.shape[1] < length:
                x = np.pad(x, ((0, 0), (0, length - x.shape[1])))
            feed[name] = x
        logits, latent = self.session.run(None, feed)
        return latent.astype(np.float32), probabilities(logits, self.temperature)
