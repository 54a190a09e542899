"""The heads an arm trains, behind one protocol (``base.Head``): logistic regression on pooled
features (``linear``), a BiLSTM on sequence features (``bilstm``), the fine-tuned encoder with a
linear head (``finetune``), and the majority-class baseline (``baseline``)."""
