"""Making the models: the trainers of each kind, their run folders, word vectors and the ONNX export."""
