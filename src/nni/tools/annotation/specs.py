"""
Parse one NNI annotation (the text of a ``\"\"\"@nni....\"\"\"`` string) into an :class:`Annotation`.

Supported forms::

    @nni.variable(nni.choice(50, 250, 500), name=batch_size)      the next statement assigns batch_size
    @nni.variable(nni.uniform(0.0001, 0.1), name=learning_rate)   (also randint, quniform, loguniform, ...)
    @nni.function_choice(max_pool(x), avg_pool(x), name=pool)     the next statement's value is one of the calls
    @nni.report_intermediate_result(test_acc)
    @nni.report_final_result(test_acc)
    @nni.get_next_parameter()

``name`` is written as a bare identifier (NNI's style) or a string.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

__all__ = ['DISTRIBUTIONS', 'Annotation', 'AnnotationError', 'parse_annotation']

#: Sampling functions usable inside ``@nni.variable``, with their number of numeric arguments
#: (``None``: any number of options, for ``choice``).
DISTRIBUTIONS: dict[str, int | None] = {
    'choice': None,
    'randint': 2,
    'uniform': 2,
    'quniform': 3,
    'loguniform': 2,
    'qloguniform': 3,
    'normal': 2,
    'qnormal': 3,
    'lognormal': 2,
    'qlognormal': 3,
}

_STATEMENT_KINDS = ('report_intermediate_result', 'report_final_result', 'get_next_parameter')
_NAS_KINDS = ('mutable_layers', 'training_update', 'layer_choice', 'input_choice')


class AnnotationError(ValueError):
    """
    An annotation that cannot be understood; the message starts with ``<file>:<line>:``.

    Parameters
    ----------
    message
        What is wrong and what is allowed.
    filename
        The file, relative to the code directory, or ``None``.
    lineno
        Line of the annotation, or ``None``.
    """

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None) -> None:
        where = ':'.join(str(part) for part in (filename, lineno) if part is not None)
        super().__init__(f'{where}: {message}' if where else message)
        self.filename = filename
        self.lineno = lineno


@dataclass
class Annotation:
    """
    One parsed annotation.

    Attributes
    ----------
    kind
        ``variable``, ``function_choice``, ``report_intermediate_result``, ``report_final_result`` or
        ``get_next_parameter``.
    name
        Parameter name (``variable``), the given or generated name (``function_choice``), else ``None``.
    spec
        Search space entry ``{"_type": ..., "_value": [...]}`` for ``variable`` and ``function_choice``.
    options
        For choices among expressions: source text -> expression node; empty for literal choices and
        numeric distributions (the tuner's value is used as is).
    argument
        The metric expression of a report.
    lineno
        Line of the annotation string.
    """

    kind: str
    lineno: int
    name: str | None = None
    spec: dict[str, Any] | None = None
    options: dict[str, ast.expr] = field(default_factory=dict)
    argument: ast.expr | None = None
    name_given: bool = True


def _nni_call(node: ast.AST) -> str | None:
    # "nni.<attr>(...)" -> attr
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == 'nni':
        return node.func.attr
    return None


def _name_keyword(call: ast.Call, error: Any) -> str | None:
    for keyword in call.keywords:
        if keyword.arg != 'name':
            raise error(f'unknown keyword argument {keyword.arg!r}; only name= is allowed')
        value = keyword.value
        if isinstance(value, ast.Name):
            return value.id
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
            return value.value
        raise error(f'name= must be an identifier or a string, got {ast.unparse(value)}')
    return None


def _choice_spec(options: list[ast.expr]) -> tuple[dict[str, Any], dict[str, ast.expr]]:
    values = []
    for option in options:
        try:
            values.append(ast.literal_eval(option))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            break
    else:
        return {'_type': 'choice', '_value': values}, {}
    # Expressions (functions, objects): the tuner picks among their source texts, mapped back at run time.
    sources = {}
    for option in options:
        source = ast.unparse(option)
        if source in sources:
            raise ValueError(f'option {source!r} is given twice')
        sources[source] = option
    return {'_type': 'choice', '_value': list(sources)}, sources


def parse_annotation(text: str, lineno: int, filename: str | None = None) -> Annotation:
    """
    Parse the text of an annotation string (starting with ``@nni.``).

    Parameters
    ----------
    text
        The string's value.
    lineno
        Its line, for messages.
    filename
        Its file, for messages.

    Returns
    -------
    Annotation
        The parsed annotation.

    Raises
    ------
    AnnotationError
        Syntax errors, unknown annotations, wrong arguments.
    """
    def error(message: str) -> AnnotationError:
        return AnnotationError(message, filename, lineno)

    source = text.strip()[1:].strip()
    try:
        node = ast.parse(source, mode='eval').body
    except SyntaxError as exc:
        raise error(f'annotation "@{source}" is not a valid Python call ({exc.msg})') from None
    kind = _nni_call(node)
    if kind is None:
        raise error(f'annotation "@{source}" must be a call of an nni function, such as @nni.variable(...)')
    assert isinstance(node, ast.Call)
    if kind in _NAS_KINDS:
        raise error(f'@nni.{kind} is a NAS annotation, which is not supported; use @nni.variable or '
                    '@nni.function_choice')
    if kind in _STATEMENT_KINDS:
        if node.keywords:
            raise error(f'@nni.{kind} takes no keyword arguments')
        wanted = 0 if kind == 'get_next_parameter' else 1
        if len(node.args) != wanted:
            raise error(f'@nni.{kind} takes {wanted} argument{"s" if wanted != 1 else ""}, got {len(node.args)}')
        return Annotation(kind, lineno, argument=node.args[0] if node.args else None)
    if kind == 'variable':
        name = _name_keyword(node, error)
        if len(node.args) != 1:
            raise error('@nni.variable takes one distribution, e.g. @nni.variable(nni.choice(1, 2), name=x)')
        distribution = node.args[0]
        function = _nni_call(distribution)
        if function not in DISTRIBUTIONS:
            raise error(f'@nni.variable needs an nni distribution ({", ".join("nni." + d for d in DISTRIBUTIONS)}), '
                        f'got {ast.unparse(distribution)}')
        assert isinstance(distribution, ast.Call)
        if distribution.keywords:
            raise error(f'nni.{function} takes positional arguments only')
        arity = DISTRIBUTIONS[function]
        if function == 'choice':
            if not distribution.args:
                raise error('nni.choice needs at least one option')
            try:
                spec, options = _choice_spec(distribution.args)
            except ValueError as exc:
                raise error(f'nni.choice: {exc}') from None
        else:
            if len(distribution.args) != arity:
                raise error(f'nni.{function} takes {arity} numbers, got {len(distribution.args)}')
            numbers = []
            for arg in distribution.args:
                try:
                    value = ast.literal_eval(arg)
                except (ValueError, TypeError, SyntaxError):
                    value = None
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise error(f'nni.{function} arguments must be number literals, got {ast.unparse(arg)}')
                numbers.append(value)
            spec, options = {'_type': function, '_value': numbers}, {}
        return Annotation('variable', lineno, name=name, spec=spec, options=options, name_given=name is not None)
    if kind == 'function_choice':
        name = _name_keyword(node, error)
        if not node.args:
            raise error('@nni.function_choice needs at least one call to choose from')
        try:
            spec, options = _choice_spec(node.args)
        except ValueError as exc:
            raise error(f'@nni.function_choice: {exc}') from None
        if not options:
            # all literals: still map them by their source text so that the statement's value is replaced
            options = {ast.unparse(arg): arg for arg in node.args}
            spec = {'_type': 'choice', '_value': list(options)}
        return Annotation('function_choice', lineno, name=name or f'function_choice_{lineno}', spec=spec,
                          options=options, name_given=name is not None)
    raise error(f'unknown annotation @nni.{kind}; supported: @nni.variable, @nni.function_choice, '
                '@nni.report_intermediate_result, @nni.report_final_result, @nni.get_next_parameter')
