"""Stage 2, the profile: size and shape, the three Arora et al. metrics (``linguistic``,
``complexity``), domain shift (``domain``), put together by ``profile.profile_dataset``."""
