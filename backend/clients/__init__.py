"""The one interface the front end talks to: the Client (protocol.py; its analysis and audit methods are the rows
of backend.service.operations), LocalClient (the engine in this process, the default) and HttpClient (the HTTP
service on another machine); and the work budget that bounds a client call (a deadline, a cap on token passes, a
Stop, progress: backend.budget), which a caller installs around the call with `run_under`."""
from backend.budget import DEFAULT_DEADLINE_S, DEFAULT_MAX_TOKEN_PASSES, Budget, Progress, WorkCancelled, run_under
from backend.clients.http import HttpClient
from backend.clients.local import LocalClient
from backend.clients.protocol import Client

__all__ = ["Client", "LocalClient", "HttpClient", "Budget", "Progress", "WorkCancelled", "run_under",
           "DEFAULT_DEADLINE_S", "DEFAULT_MAX_TOKEN_PASSES"]
