"""Where packages come from: a Python environment, requirements, lockfiles, a generator."""
