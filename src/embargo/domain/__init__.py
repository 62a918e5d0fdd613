"""Plain-Python rules of disclosure: no Django import here (a test checks it)."""
