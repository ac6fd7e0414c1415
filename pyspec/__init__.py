"""pyspec: the cowspec specification language.

A spec file (``*.cow``) is parsed (:mod:`pyspec.parser`), checked (:mod:`pyspec.checker`)
and compiled to plain Python (:mod:`pyspec.codegen.scalar`) that implements the
:class:`pyspec.model.Model` interface the explorer runs.
"""
