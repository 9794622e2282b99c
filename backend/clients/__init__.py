"""The one interface the front end talks to: the Client protocol, LocalClient (the engine in this process, the
default) and HttpClient (the HTTP service on another machine)."""
