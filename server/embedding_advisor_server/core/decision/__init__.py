"""Stage 5, the decision: the pure rule (``decide``), continued-pretraining advice
(``pretraining``), the ``Recommendation`` put together (``recommend``) and its prose
(``narrative``)."""
