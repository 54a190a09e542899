"""Stage 4, the evidence: scores that can be bootstrapped (``metrics``), what the pilots measured
(``runs``), learning curves (``curves``), LogME (``logme``), and the evidence the advice cites:
curve points, extrapolations, bucketed gaps (``evidence``) and each option's expected score at the
decision size (``candidates``)."""
