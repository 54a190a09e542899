"""Reading results: the recommendation of a finished job (or the error that says why there is
none), and the protocol's enums as Python enums, spelled as the CLI spells them.

>>> Confidence(rec.confidence) is Confidence.HIGH                        # doctest: +SKIP
>>> Adaptation(rec.adaptation_decision.evidence.adaptation).word          # doctest: +SKIP
'fine-tune'
"""

from __future__ import annotations

import enum

from google.protobuf.descriptor import EnumDescriptor

from . import errors
from .output import enum_prefix, enum_word
from .v1 import advisor_pb2 as pb


class ProtoEnum(enum.IntEnum):
    """A protocol enum; ``int`` compatible with the messages' fields."""

    @property
    def word(self) -> str | None:
        """The CLI's and the JSON's spelling (``onnx-fp32``); None for the unset value."""
        return enum_word(self._descriptor, int(self))  # type: ignore[attr-defined]


def _python_enum(descriptor: EnumDescriptor) -> type[ProtoEnum]:
    prefix = enum_prefix(descriptor)
    members = {v.name.removeprefix(prefix): v.number for v in descriptor.values}
    made = ProtoEnum(descriptor.name, members)
    made._descriptor = descriptor
    made.__module__ = __name__
    return made


TaskType = _python_enum(pb.TaskType.DESCRIPTOR)
Embedding = _python_enum(pb.Embedding.DESCRIPTOR)
JobState = _python_enum(pb.JobState.DESCRIPTOR)
Precision = _python_enum(pb.Precision.DESCRIPTOR)
Priority = _python_enum(pb.Priority.DESCRIPTOR)
Budget = _python_enum(pb.Budget.DESCRIPTOR)
FeatureBackend = _python_enum(pb.FeatureBackend.DESCRIPTOR)
Adaptation = _python_enum(pb.Adaptation.DESCRIPTOR)
Pretraining = _python_enum(pb.Pretraining.DESCRIPTOR)
Confidence = _python_enum(pb.Confidence.DESCRIPTOR)

FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})


def recommendation_of(job: pb.Job) -> pb.Recommendation:
    """The job's recommendation, or the error that says why it has none."""
    if job.state == JobState.SUCCEEDED:
        return job.recommendation
    state = JobState(job.state).word
    if job.state == JobState.CANCELLED:
        raise errors.JobCancelledError(f"job {job.job_id} was cancelled: {job.error}")
    if job.state in FINISHED:
        raise errors.JobFailedError(f"job {job.job_id} {state}: {job.error}")
    raise errors.AdvisorError(f"job {job.job_id} is still {state}")
