"""Stage 1, the data: uploaded files (``blobs``), parsed and checked into a ``Dataset``
(``parse``), split and subsampled (``sampling``), words (``text``), and the general-domain
reference sample the profile compares with (``reference``)."""
