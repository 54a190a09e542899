"""The continued-pretraining pilots: masked-LM training of the encoder, then the fine-tuned arm's
headline run again from the adapted weights.

Gururangan et al. 2020 saw task- and domain-adaptive pretraining help on their eight
classification tasks; Shi & Lipani 2023 found conventional continued pretraining could also hurt,
notably on sentence pairs. So it is measured, not assumed. Up to three pilots:

- **TAPT**: masked-LM training on the pilot pool's training inputs (labels unused); the held-out
  inputs too only when the user opts in (``transductive``), since the held-out examples score the
  result;
- **DAPT**, when the user gave a domain corpus: masked-LM training on a seeded uniform sample of
  its documents (``adapt/corpus.py``; the plan sets how many per task text), one pass;
- **DAPT+TAPT**: the TAPT pilot again, from the DAPT pilot's weights.

Each starts from the masked-LM probe's model (its own head, or the warmed-up tied head) with the
plan's recipe (``adapt/continued.py``), and is followed by the run it pairs with
(``Plan.tapt_pair``) from the adapted weights on the same training sample, seed and recipe, so the
gain is paired (``evidence/adaptation.py``):

- ``finetune``: the fine-tuned arm's headline run (the pool size, seed 0) again;
- ``frozen`` (the quick budget): logistic regression on the frozen encoder's pooled states at the
  pool size, seed 0, with the features of both the original and the adapted weights computed on
  torch in the job's precision (the frozen arms' own features may come from an ONNX graph, whose
  numbers differ slightly: the pair must differ only by the weights). Two encodings of the pool
  cost a fraction of a second fine-tuning, and the gain is what a frozen pick would get.

The masked-LM loss on the held-out task text is measured before and after each.

Skipped, with a note, when there is nothing to pair with (the paired arm did not run), no
masked-LM form of the encoder, or not enough time left; stopped by the deadline like any other run
(the pilots already finished are kept).
"""

from __future__ import annotations

import time
from dataclasses import replace

from ..adapt.continued import Adapted, adapted_encoder, continue_pretraining
from ..adapt.corpus import Corpus
from ..adapt.masking import texts_of
from ..backends.torch_encoder import Encoder, on_torch
from ..evidence.adaptation import PretrainingRun
from ..evidence.metrics import Evaluation
from ..evidence.runs import ArmRun, CurveRun
from ..progress import OutOfTime, scaled
from .arms import ENCODER_LOGREG, ENCODER_TAPT, PAIRED_ARM
from .arms import arm as arm_of
from .features import FeatureSet
from .featurise import PHASES
from .plan import FINETUNE_COST

LABELS = {"tapt": "task-adaptive", "dapt": "domain-adaptive", "dapt_tapt": "DAPT+TAPT"}
# The arm each ``Plan.tapt_pair`` pairs with (``arms.PAIRED_ARM``), in words.
PAIRED_WORDS = {"finetune": "fine-tuning", "frozen": "the frozen encoder + logistic regression"}


def _title(kind: str) -> str:
    label = LABELS[kind]
    return label[0].upper() + label[1:]


def pretraining_pilots(
    pilots, runs: list[ArmRun], probe, transductive: bool = False, corpus: Corpus | None = None
) -> list[PretrainingRun]:
    """The continued-pretraining pilots' evidence (see the module's notes), a note for each one
    that could not run. ``pilots``: the job's ``runner._Pilots``; ``runs``: the arms' runs (the
    paired arm's among them); ``probe``: the encoder's masked-LM probe
    (``backends/mlm.MLMProbe``) or None; ``corpus``: the domain corpus, or None (no DAPT)."""
    recipe = pilots.plan.tapt
    if recipe is None:
        return []
    pair = pilots.plan.tapt_pair
    base = next((r for r in runs if r.arm == PAIRED_ARM[pair]), None)
    why = _unmeasurable(pilots, base, probe, pair)
    if why:
        pilots.notes.append(f"Continued pretraining not measured: {why}.")
        return []
    assert base is not None
    headline = min((r for r in base.curve if r.size == base.num_train), key=lambda r: r.seed)
    held = texts_of(pilots.held_out.inputs, pilots.tagging)
    task = texts_of(pilots.pool.inputs, pilots.tagging) + (held if transductive else [])
    domain, documents = [], 0
    if corpus is not None:
        pilots.report(PHASES["tapt"][0], "sampling the domain corpus")
        try:
            domain, documents = corpus.sample(
                pilots.plan.dapt_documents * len(task), pilots.seed, pilots.hard_check
            )
        except OutOfTime:
            domain = []
            pilots.notes.append(
                "Domain-adaptive pretraining not measured: the budget ran out while sampling the "
                "domain corpus."
            )
    dapt_recipe = replace(recipe, max_epochs=1, patience=1)
    todo = [("tapt", [(task, recipe)])]
    if domain:
        documents_as_inputs = [(text,) for text in domain]  # one text column, like the task's
        todo += [
            ("dapt", [(documents_as_inputs, dapt_recipe)]),
            ("dapt_tapt", [(task, recipe)]),
        ]
    pilot = _Pilot(pilots, probe, headline, held, transductive, pair)
    lo, hi = PHASES["tapt"]
    runs: list[PretrainingRun] = []
    for k, (kind, stages) in enumerate(todo):
        start = next((r for r in runs if r.kind == "dapt"), None) if kind == "dapt_tapt" else None
        if kind == "dapt_tapt" and start is None:
            break
        step = (hi - lo) / len(todo)
        share = scaled(pilots.report, lo + step * k, lo + step * (k + 1))
        try:
            run = pilot.run(kind, stages, share, start, documents if kind != "tapt" else 0)
        except OutOfTime:
            pilots.notes.append(
                f"{_title(kind)} pretraining stopped: the budget ran out while it trained."
            )
            break
        if run is None:
            break
        runs.append(run)
    return runs


class _Pilot:
    """One continued-pretraining pilot's work, sharing the probe, the headline run to pair with
    and the held-out texts' loss before any adaptation."""

    def __init__(
        self, pilots, probe, headline: CurveRun, held: list, transductive: bool, pair: str
    ):
        self.pilots = pilots
        self.probe = probe
        self.headline = headline
        self.held = held
        self.transductive = transductive
        self.pair = pair
        self._before: float | None = None
        # The frozen pair's run from the original weights: the arm's own headline when the job's
        # encoder computes on torch already (the same features), else measured once on torch.
        on_torch_already = type(pilots.encoder).hidden is Encoder.hidden
        self._frozen_base: Evaluation | None = headline.held_out if on_torch_already else None

    def before(self) -> float:
        if self._before is None:
            p = self.pilots
            self._before = self.probe.loss(self.held, seed=p.seed, check=p.hard_check).mean
        return self._before

    def run(
        self, kind: str, stages, report, start: PretrainingRun | None, documents: int
    ) -> PretrainingRun | None:
        p = self.pilots
        passes = sum(len(t) * r.max_epochs for t, r in stages)
        if not _affordable(p, kind, passes, self.paired_cost()):
            return None
        before = self.before()
        model = start.model if start is not None else self.probe.model
        adapted: Adapted | None = None
        for texts, recipe in stages:
            adapted = continue_pretraining(
                model,
                self.probe.tokenizer,
                texts,
                recipe,
                p.precision,
                p.seed,
                p.hard_check,
                scaled(report, 0.0, 0.5, f"{LABELS[kind]} pretraining"),
            )
            model = adapted.model
        assert adapted is not None
        after = self.probe.with_model(adapted.model).loss(
            self.held, seed=p.seed, check=p.hard_check
        )
        encoder = adapted_encoder(p.encoder, adapted.state)
        t0 = time.perf_counter()
        pair = (self._frozen if self.pair == "frozen" else self._fine_tuned)(kind, encoder, report)
        if pair is None:
            p.notes.append(
                f"{_title(kind)} pretraining not measured: the budget ran out while training "
                f"{PAIRED_WORDS[self.pair]} from the adapted weights."
            )
            return None
        return PretrainingRun(
            kind=kind,
            size=self.headline.size,
            seed=self.headline.seed,
            base=pair[0],
            adapted=pair[1],
            mlm_seconds=adapted.seconds,
            finetune_seconds=time.perf_counter() - t0,
            mlm_epochs=adapted.epochs,
            mlm_epochs_run=adapted.epochs_run,
            mlm_steps=adapted.steps,
            mlm_texts=adapted.texts,
            mlm_pieces=adapted.pieces,
            recipe=adapted.recipe,
            dev_loss_before=adapted.dev_loss_before,
            dev_loss_after=adapted.dev_loss_after,
            held_out_loss_before=before,
            held_out_loss_after=after.mean,
            transductive=self.transductive and kind != "dapt",
            corpus_documents=documents,
            prior_seconds=start.mlm_seconds + start.prior_seconds if start is not None else 0.0,
            model=adapted.model,
            paired_on=self.pair,
            mlm_flops_per_piece=adapted.flops_per_piece,
        )

    def paired_cost(self) -> float:
        """Seconds the paired run is planned to take: one fine-tuning, or the encodings."""
        p = self.pilots
        if self.pair != "frozen":
            return p.finetune_cost(self.headline.size)
        encodings = 1 if self._frozen_base is not None else 2
        return encodings * (len(p.pool) + len(p.held_out)) / max(p.rate, 1e-6)

    def _fine_tuned(self, kind: str, encoder, report) -> tuple[Evaluation, Evaluation] | None:
        """Fine-tuning's headline run again, from ``encoder``'s adapted weights."""
        p = self.pilots
        ctx = replace(
            p.context(scaled(report, 0.5, 1.0, f"fine-tuning after {kind.upper()}")),
            encoder=encoder,
        )
        step = p.step(arm_of(ENCODER_TAPT), self.headline.size, self.headline.seed - p.seed, ctx)
        return None if step is None else (self.headline.held_out, step.run.evaluation)

    def _frozen(self, kind: str, encoder, report) -> tuple[Evaluation, Evaluation] | None:
        """Logistic regression at the headline's size and seed on the frozen pooled states of
        the original weights (once per job) and of ``encoder``'s adapted ones, both on torch."""
        p = self.pilots
        try:
            if self._frozen_base is None:
                report(0.5, "frozen features of the original weights")
                self._frozen_base = self._logreg(on_torch(p.encoder), report, 0.5, 0.75)
            report(0.75, f"frozen features after {kind.upper()}")
            return self._frozen_base, self._logreg(encoder, report, 0.75, 1.0)
        except OutOfTime:
            return None

    def _logreg(self, encoder, report, lo: float, hi: float) -> Evaluation:
        p = self.pilots
        spec = arm_of(ENCODER_LOGREG)

        def on_batch(done: int, total: int) -> None:
            report(lo + (hi - lo) * done / total, f"{encoder.name}: frozen features")

        inputs = list(p.pool.inputs) + list(p.held_out.inputs)
        states = p.encoder_features(inputs, on_batch, encoder, p.hard_check)
        cut = len(p.pool)
        features = FeatureSet("", "", "", states[:cut], states[cut:], tagging=p.tagging)
        offset = self.headline.seed - p.seed
        step = p._step(spec, self.headline.size, offset, p.context(), p.hard_check, features)
        return step.run.evaluation


def _affordable(pilots, kind: str, texts: int, paired: float) -> bool:
    """Whether masked-LM training over ``texts`` texts (epochs counted) and the paired run
    (``paired`` seconds) fit the time left (noted when not)."""
    cost = FINETUNE_COST / max(pilots.rate, 1e-6) * texts + paired
    left = pilots.time_left()
    if left is not None and cost > left:
        pilots.notes.append(
            f"{_title(kind)} pretraining not measured: it needs ~{cost:.0f} s and "
            f"the budget has {max(left, 0):.0f} s left."
        )
        return False
    return True


def _unmeasurable(pilots, base: ArmRun | None, probe, pair: str) -> str:
    if probe is None:
        return (
            "no masked-LM form of the encoder was loaded (it has none, or the budget in seconds "
            "left no time to warm a head up: see the profile's domain notes)"
        )
    if base is None or not base.curve:
        return f"{PAIRED_WORDS[pair]} did not run, so there is nothing to pair the adapted run with"
    if pilots.encoder is None or getattr(pilots.encoder, "model", None) is None:
        return "the encoder has no torch weights to adapt"
    return ""
