"""The jobs: one module per command over paths, each a straight descent from the command line to the core.

:mod:`.convert` (``convert``, ``sheets``), :mod:`.validate` (``validate``, with ``--clean``/``--rejects``
and the report page), :mod:`.fix` (``fix``), :mod:`.template` (``--template``), :mod:`.split` (``split``).
Sources and sinks are :mod:`cgformat.files`'.
"""
