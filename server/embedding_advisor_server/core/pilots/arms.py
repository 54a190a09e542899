"""The registry of options the pilots try: one ``ArmSpec`` per arm, the only place an arm is named.

Each arm pairs a feature source (``features.py``) with a head (``heads/``) and says how the
advice names it. The comparison arms share one sequence head (a BiLSTM), as in Arora et al. 2020:
the frozen encoder, static vectors (GloVe by default) and random vectors of the static vectors'
dimension (the floor). Two cheap deployment options ride along (logistic regression on the pooled
static vectors and on the frozen encoder's pooled states), and the fine-tuned encoder (Peters et
al. 2019: fine-tuning needs only a minimal head). The majority-class baseline is the bar every
option must clear.

How an arm is trained (``schedule``): ``curve``, at every learning-curve size and seed; ``finetune``,
at the budget's largest sizes only (it is the costly arm); ``once``, at the pool size; ``tapt``,
fine-tuning again from the weights that task-adaptive pretraining left (``tapt.py``): evidence for
the continued-pretraining question, paired with the fine-tuned arm's run, not an option of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..evidence.runs import ArmRun
from ..schema import Adaptation, Embedding
from .heads.base import HeadFactory
from .heads.baseline import MajorityHead
from .heads.bilstm import BiLSTMHead
from .heads.finetune import FineTuneHead
from .heads.linear import LinearHead

MAJORITY = "majority"
STATIC_LOGREG = "static_logreg"
ENCODER_LOGREG = "encoder_frozen_logreg"
STATIC = "static_bilstm"
RANDOM = "random_bilstm"
ENCODER_FROZEN = "encoder_frozen_bilstm"
ENCODER_FINETUNED = "encoder_finetuned"
ENCODER_TAPT = "encoder_tapt_finetuned"

# Feature sources
ENCODER, STATIC_VECTORS, RANDOM_VECTORS, INPUTS, NONE = "encoder", "static", "random", "inputs", ""
# The arm a continued-pretraining pilot pairs with, by ``Plan.tapt_pair`` (and
# ``PretrainingRun.paired_on``): fine-tuning's headline, or the frozen encoder + logistic regression.
PAIRED_ARM = {"finetune": ENCODER_FINETUNED, "frozen": ENCODER_LOGREG}


@dataclass(frozen=True)
class ArmSpec:
    id: str
    family: Embedding
    adaptation: Adaptation
    label: str  # in words; ``{encoder}`` and ``{vectors}`` stand for their names
    short_label: str  # for tables
    features: str  # the feature source
    head: HeadFactory
    pooled: bool = False  # the head reads the pooled view of the features
    schedule: str = "curve"  # "curve", "finetune", "once" or "tapt"
    # With a single size, the expected score borrows this arm's fitted gain (evidence/candidates).
    borrows_curve_of: str = ""

    def label_for(self, encoder: str, vectors: str) -> str:
        return self.label.format(encoder=encoder, vectors=vectors)


ARMS: tuple[ArmSpec, ...] = (
    ArmSpec(
        MAJORITY,
        Embedding.UNSPECIFIED,
        Adaptation.UNSPECIFIED,
        "majority class",
        "majority",
        NONE,
        MajorityHead.for_context,
        schedule="once",
    ),
    ArmSpec(
        STATIC_LOGREG,
        Embedding.STATIC,
        Adaptation.FREEZE,
        "averaged {vectors} + logistic regression",
        "static+LR",
        STATIC_VECTORS,
        LinearHead.for_context,
        pooled=True,
    ),
    ArmSpec(
        ENCODER_LOGREG,
        Embedding.CONTEXTUAL,
        Adaptation.FREEZE,
        "frozen {encoder} + logistic regression",
        "frozen+LR",
        ENCODER,
        LinearHead.for_context,
        pooled=True,
    ),
    ArmSpec(
        STATIC,
        Embedding.STATIC,
        Adaptation.FREEZE,
        "{vectors} + BiLSTM",
        "static+BiLSTM",
        STATIC_VECTORS,
        BiLSTMHead.for_context,
    ),
    ArmSpec(
        RANDOM,
        Embedding.RANDOM,
        Adaptation.FREEZE,
        "random vectors + BiLSTM",
        "random+BiLSTM",
        RANDOM_VECTORS,
        BiLSTMHead.for_context,
    ),
    ArmSpec(
        ENCODER_FROZEN,
        Embedding.CONTEXTUAL,
        Adaptation.FREEZE,
        "frozen {encoder} + BiLSTM",
        "frozen+BiLSTM",
        ENCODER,
        BiLSTMHead.for_context,
    ),
    ArmSpec(
        ENCODER_FINETUNED,
        Embedding.CONTEXTUAL,
        Adaptation.FINE_TUNE,
        "fine-tuned {encoder}",
        "fine-tuned",
        INPUTS,
        FineTuneHead.for_context,
        schedule="finetune",
        borrows_curve_of=ENCODER_FROZEN,
    ),
    ArmSpec(
        ENCODER_TAPT,
        Embedding.CONTEXTUAL,
        Adaptation.FINE_TUNE,
        "fine-tuned {encoder} after task-adaptive pretraining",
        "TAPT+fine-tuned",
        INPUTS,
        FineTuneHead.for_context,
        schedule="tapt",
    ),
)
BY_ID = {spec.id: spec for spec in ARMS}


def arm(arm_id: str) -> ArmSpec:
    return BY_ID[arm_id]


def new_run(arm_id: str, *, encoder: str = "", vectors: str = "", **fields) -> ArmRun:
    """An ``ArmRun`` of a registered arm: its identity (family, adaptation, labels, what it
    borrows) from the registry, the measurements from ``fields``."""
    spec = BY_ID[arm_id]
    identity = dict(
        arm=spec.id,
        embedding=spec.family,
        adaptation=spec.adaptation,
        label=spec.label_for(encoder, vectors),
        short_label=spec.short_label,
        borrows_curve_of=spec.borrows_curve_of,
    )
    return ArmRun(**(identity | fields))
