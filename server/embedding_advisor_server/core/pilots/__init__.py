"""Stage 3, the pilots: every option (an ``ArmSpec`` in ``arms``) trained at several sizes and
seeds inside a budget (``plan``) by ``runner``, on features computed once (``features``) by one of
the heads behind one protocol (``heads``), with its cost (``cost``)."""
