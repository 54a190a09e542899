"""Continued pretraining of an encoder (TAPT/DAPT): BERT's masking over Hugging Face's collator
(``masking``) and masked-LM training of a copy of the encoder (``continued``). The pilots run it
(``pilots/adaptive.py``); the evidence pairs its fine-tuning with the original's
(``evidence/adaptation.py``); the decision reads the gain (``decision/pretraining.py``)."""
