"""The model backends the stages use: the encoder on torch (``torch_encoder``) or ONNX Runtime
(``onnx_encoder``), word vectors (``vectors``), the masked-LM probe (``mlm``) and the dependency
parser (``parser``), loaded offline (``hub``) and kept per process by ``cache`` — the only module
that knows every backend. ``files`` holds the atomic writes and digests of the derived-model
caches; ``tokens`` the tokenizer helpers that encoders and heads share."""
