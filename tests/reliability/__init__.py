"""Issue 9: faults injected for real, hostile input, load and security checks."""
