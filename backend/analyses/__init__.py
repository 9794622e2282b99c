"""Pure analyses: tensors or arrays in, plain data out (no Streamlit, HTTP, I/O or globals)."""
