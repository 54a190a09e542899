"""Keeping a job's adapted encoder: which pilot's weights, saved in Hugging Face format.

The weights kept are those of the advised kind (TAPT, DAPT or DAPT+TAPT), else, when the advice
is none, those of the pilot with the largest measured gain, so a user can still try them. They
are the whole masked-LM model (encoder and head) with its tokenizer: loadable as an encoder
directory (``--encoder DIR``; ``AutoModel`` drops the head) and as a masked-LM for further
pretraining. A job over the store's size limit keeps nothing and says so in the notes.
"""

from __future__ import annotations

from ..evidence.adaptation import PretrainingRun
from ..jobs.artifacts import ArtifactStore, TooLarge
from ..schema import AdaptedWeights, PretrainingKind, Recommendation


def _kept_kind(advice: Recommendation, runs: list[PretrainingRun]) -> PretrainingRun | None:
    pre = advice.pretraining
    by_kind = {r.kind: r for r in runs if r.model is not None}
    if pre is None or not by_kind:
        return None
    if pre.kind.value in by_kind:
        return by_kind[pre.kind.value]
    gains = {k: getattr(pre, k).gain for k in by_kind if getattr(pre, k, None) is not None}
    return by_kind[max(gains, key=gains.get)] if gains else None


def keep_adapted(
    advice: Recommendation,
    runs: list[PretrainingRun],
    tokenizer,
    store: ArtifactStore,
    job_id: str,
) -> Recommendation:
    """``advice`` with ``pretraining.adapted_weights`` set once the chosen pilot's weights are
    saved in ``store`` under ``job_id`` (or a note saying why none were kept)."""
    run = _kept_kind(advice, runs)
    if run is None:
        return advice

    def write(folder) -> None:
        run.model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)

    try:
        kept = store.save(job_id, write)
    except TooLarge as exc:
        note = f"The adapted weights were not kept: {exc}."
        return advice.model_copy(update={"pilot_notes": [*advice.pilot_notes, note]})
    weights = AdaptedWeights(
        kind=PretrainingKind(run.kind), files=kept.files, size_bytes=kept.size_bytes
    )
    pre = advice.pretraining.model_copy(update={"adapted_weights": weights})
    return advice.model_copy(update={"pretraining": pre})
