"""The advice as a report a person can read and share: Markdown, or one self-contained HTML file.

Everything comes from the ``Recommendation`` message (no server needed): the decision and its
evidence, every option at the decision size, the learning curves with their fits and
extrapolations, the gaps on the halves of each profile metric, cost against quality, LogME next to
the pilots, the profile and the reasons. ``plots``, ``markdown`` and ``html`` make its parts;
``write`` writes it.
"""

from __future__ import annotations

from .write import write_report

__all__ = ["write_report"]
