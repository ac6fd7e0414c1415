"""The code generators: a checked spec turned into code that an engine runs.

:mod:`pyspec.codegen.scalar` writes plain Python that computes one state's successors;
:mod:`pyspec.codegen.arrays` writes numpy code over a batch of packed states, which runs on
:mod:`pyspec.codegen.array_runtime`.
"""
