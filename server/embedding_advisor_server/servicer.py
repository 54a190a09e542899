"""The gRPC servicer: converts protobuf <-> core models and calls the data plane; decides nothing."""

from __future__ import annotations

import itertools
import threading

from embedding_advisor.errors import DeadlineExceededError
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor.v1 import advisor_pb2_grpc

from . import __version__
from .convert import from_proto, to_proto
from .core import schema
from .core.provenance import machine
from .core.service import AdvisorService

CHUNK_BYTES = 1024**2  # per streamed message, well under gRPC's 4 MiB default


def _chunks(request_iterator):
    """An upload stream's bytes, and the file name its first message carries."""
    messages = iter(request_iterator)
    first = next(messages, None)
    if first is None:
        return iter(()), ""
    return itertools.chain([first.chunk], (m.chunk for m in messages)), first.filename


def _options(request) -> schema.AdviceOptions:
    return from_proto(request.options, schema.AdviceOptions, "options.")


def _while_wanted(context):
    """A check that stops the work once nobody waits for it: the caller's deadline passed, it
    cancelled, or its connection dropped."""

    def check() -> None:
        if not context.is_active():
            raise DeadlineExceededError("the caller stopped waiting (deadline, cancel or hang-up)")

    return check


class AdvisorServicer(advisor_pb2_grpc.AdvisorServiceServicer):
    def __init__(self, service: AdvisorService) -> None:
        self.service = service

    def UploadDataset(self, request_iterator, context):
        info = self.service.upload(*_chunks(request_iterator), check=_while_wanted(context))
        return pb.UploadDatasetResponse(dataset=to_proto(info, pb.DatasetInfo))

    def UploadCorpus(self, request_iterator, context):
        info = self.service.upload_corpus(*_chunks(request_iterator))
        return pb.UploadCorpusResponse(corpus=to_proto(info, pb.CorpusInfo))

    def Profile(self, request, context):
        profile = self.service.profile(
            request.dataset_id, request.test_dataset_id or None, _options(request),
            check=_while_wanted(context),
        )  # fmt: skip
        return pb.ProfileResponse(profile=to_proto(profile, pb.DatasetProfile))

    def StartAdvice(self, request, context):
        job = self.service.start_advice(
            request.dataset_id, request.test_dataset_id or None, _options(request)
        )
        return pb.StartAdviceResponse(job=to_proto(job, pb.Job))

    def WatchJob(self, request, context):
        stop = threading.Event()
        context.add_callback(stop.set)
        for event in self.service.watch(request.job_id, stop):
            if isinstance(event, schema.Progress):
                yield pb.WatchJobResponse(progress=to_proto(event, pb.Progress))
            else:
                yield pb.WatchJobResponse(job=to_proto(event, pb.Job))

    def GetJob(self, request, context):
        return pb.GetJobResponse(job=to_proto(self.service.get_job(request.job_id), pb.Job))

    def ListJobs(self, request, context):
        jobs, token = self.service.list_jobs(request.page_size or 50, request.page_token)
        return pb.ListJobsResponse(jobs=[to_proto(j, pb.Job) for j in jobs], next_page_token=token)

    def CancelJob(self, request, context):
        return pb.CancelJobResponse(job=to_proto(self.service.cancel_job(request.job_id), pb.Job))

    def DeleteJob(self, request, context):
        self.service.delete_job(request.job_id)
        return pb.DeleteJobResponse()

    def GetServerInfo(self, request, context):
        config = self.service.config
        return pb.GetServerInfoResponse(
            version=__version__,
            machine=to_proto(machine(), pb.Machine),
            default_budget=pb.Budget.Value(f"BUDGET_{config.budget.value.upper()}"),
            default_precision=pb.Precision.Value(f"PRECISION_{config.precision.value.upper()}"),
        )

    def DeleteDataset(self, request, context):
        return pb.DeleteDatasetResponse(removed=self.service.delete_dataset(request.dataset_id))

    def DownloadAdaptedWeights(self, request, context):
        for path in self.service.adapted_weights(request.job_id):
            size = path.stat().st_size
            with open(path, "rb") as fh:
                first = True
                while (chunk := fh.read(CHUNK_BYTES)) or first:
                    yield pb.DownloadAdaptedWeightsResponse(
                        filename=path.name if first else "",
                        size_bytes=size if first else 0,
                        chunk=chunk,
                    )
                    first = False
