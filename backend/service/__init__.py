"""The HTTP backend (FastAPI): the in-process client's operations over the network, for a separate GPU machine."""
