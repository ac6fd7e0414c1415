"""Every diagnostic code, named once (as mypy's errorcodes.py names its codes).

A code is stable: users search for it, CI greps for it, and docs/language.md's table says
what each means with an example (a test keeps the table and this module in step). Code
that reports a problem names the constant, never the string.
"""

from __future__ import annotations

# -- reading the files ------------------------------------------------------------------
#: A syntax error.
SYNTAX = "E001"
#: An integer literal larger than the language allows.
INT_TOO_LARGE = "E003"
#: An imported file cannot be read.
IMPORT_UNREADABLE = "E004"
#: Nesting too deep to parse or compile.
TOO_DEEP = "E005"

# -- names and types --------------------------------------------------------------------
#: An unknown name, type or function.
UNKNOWN_NAME = "E101"
#: A name declared twice, or a local name shadowing another.
DUPLICATE = "E102"
#: A wrong number of arguments or fields.
ARITY = "E103"
#: A type mismatch.
TYPE_MISMATCH = "E104"
#: An unknown field or variant.
UNKNOWN_FIELD = "E105"
#: A name used as the wrong kind of thing.
WRONG_KIND = "E106"
#: A ``match`` that is not exhaustive.
NOT_EXHAUSTIVE = "E107"
#: A match arm that can never match, or a variant matched twice.
UNREACHABLE_ARM = "E108"
#: A pattern that is not a variant of the matched type.
NOT_A_VARIANT = "E109"

# -- assignments and effects ------------------------------------------------------------
#: A variable assigned twice on one path.
ASSIGNED_TWICE = "E201"
#: An assignment to something that is not a variable.
NOT_ASSIGNABLE = "E202"
#: An assignment to an undeclared variable.
UNDECLARED_VARIABLE = "E203"
#: ``init`` does not assign every variable (or assigns a part before the whole).
INIT_INCOMPLETE = "E204"
#: A prime outside actions and action properties.
PRIME_OUTSIDE_ACTION = "E205"
#: A prime missing in an action, or present in ``init``.
PRIME_MISPLACED = "E206"
#: ``requires``, ``pick`` or ``either`` inside ``for``.
FORK_IN_FOR = "E207"
#: A next value ``x'`` read before the action assigns ``x`` on every path.
PRIME_BEFORE_ASSIGNED = "E208"
#: ``init`` reads a variable.
INIT_READS_STATE = "E209"

# -- finiteness and constants -----------------------------------------------------------
#: A type that is not finite where one is needed.
NOT_FINITE = "E301"
#: Recursion, or a cycle among definitions, types or models.
CYCLE = "E302"
#: A constant expression that reads state.
NOT_CONSTANT = "E303"
#: An empty range in a model.
EMPTY_RANGE = "E304"
#: A set that must be built, or a type that must be listed, with more values than
#: ``runtime.MAX_DOMAIN``.
TOO_LARGE = "E305"

# -- scenarios and models ---------------------------------------------------------------
#: A scenario step that names an unknown action.
UNKNOWN_ACTION = "E401"
#: A scenario step with the wrong number of arguments, or a scenario without steps.
STEP_ARITY = "E402"
#: An expectation that names something that is not an invariant, property or witness.
NOT_A_PROPERTY = "E403"
#: An unknown model in ``extends`` or ``expect ... in``.
UNKNOWN_MODEL = "E404"
#: A model that sets something that is not a constant.
NOT_A_CONSTANT = "E410"
#: A model value the spec uses that is missing from a model's set.
MISSING_MODEL_VALUE = "E411"
#: A ``for model`` block that sets a constant (the model's declaration sets them).
REFINEMENT_SETS_CONSTANT = "E420"
#: ``import "m.cow" with { N = e }`` where m (and what it imports) has no parameter N.
NOT_A_PARAMETER = "E421"
#: A parameter bound twice, or by a declaration that cannot bind it.
PARAM_BOUND_TWICE = "E422"
#: A parameter nothing binds, in a model that is run (exit 151).
UNBOUND_PARAMETER = "E423"
#: An operator parameter (``param F(x: T): U``) that no def binds.
OPERATOR_PARAM_UNBOUND = "E424"
#: ``import "m.cow" as X`` of a module that declares more than definitions.
NOT_INSTANCEABLE = "E425"

# -- temporal properties and fairness ---------------------------------------------------
#: A temporal operator (always, eventually, leads_to) outside a ``property``.
TEMPORAL_OUTSIDE_PROPERTY = "E430"
#: A temporal formula of a shape the checker does not support (e.g. nested leads_to).
TEMPORAL_FORM = "E431"
#: A fairness line that names something that is not an action, or an action twice.
FAIRNESS_ACTION = "E432"
#: A ``step`` in a temporal property that names no action, or with wrong arguments.
TEMPORAL_STEP = "E433"

# -- while checking ---------------------------------------------------------------------
#: An evaluation error while checking.
EVALUATION = "E900"
#: A Python model file that does not load or does not build a model.
PYTHON_MODEL = "E901"

# -- warnings ---------------------------------------------------------------------------
#: A definition that is never used.
UNUSED_DEF = "W501"
#: An action whose guard can never be true.
NEVER_ENABLED = "W502"
#: An ``or``/``exists`` in action position, where TLC makes one successor per true case.
BRANCHING_GUARD = "W503"

#: Every code, for the docs test.
ALL = {name: code for name, code in dict(globals()).items()
       if name.isupper() and isinstance(code, str) and code[:1] in "EW"}
