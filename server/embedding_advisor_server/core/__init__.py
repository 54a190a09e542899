"""The advisor's library core: dataset -> profile -> pilots -> evidence -> recommendation, one
package per stage (``data``, ``profile``, ``pilots``, ``evidence``, ``decision``), continued
pretraining (``adapt``), the model backends (``backends``) and the job machinery (``jobs``)
apart, wired by ``pipeline``. Knows nothing of gRPC."""
