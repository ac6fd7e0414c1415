"""The liveness check: temporal properties under fairness, on the recorded state graph.

``graph`` records the graph during the search, ``automaton`` gives each temporal form's
negation as a Büchi automaton, ``scc`` finds fair accepting components of their product,
``lasso`` turns one into a counterexample, and ``check`` runs it all after a search.
"""
