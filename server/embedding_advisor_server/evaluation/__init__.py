"""``advise eval DIR``: prove the advice on a folder of labelled datasets. For each dataset and
training size, the advisor as a user runs it (``advisor.py``), the full sweep of every option it
can recommend (``core/pilots/sweep.py``, cached: ``cache.py``), and how the two compare
(``scoring.py``): regret, agreement, interval coverage and width, cost ratio; written as JSON,
a Markdown table and two plots (``output.py``). ``run.py`` drives it; ``__main__.py`` is the
command line."""
