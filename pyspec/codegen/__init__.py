"""The code generators: a checked spec turned into code that an engine runs.

:mod:`pyspec.codegen.scalar` writes plain Python that computes one state's successors;
:mod:`pyspec.codegen.arrays` writes numpy code over a batch of packed states, which runs on
:mod:`pyspec.codegen.array_runtime`; :mod:`pyspec.codegen.compiled` writes Python over
packed states, the breadth-first search included, which :mod:`pyspec.codegen.lower_llvm`
lowers to LLVM IR for the compiled engine.
"""
