"""
Rewrite one annotated Python module into code that talks to NNI (stdlib :mod:`ast`).

Each annotation string statement is replaced:

* ``@nni.variable(...)`` + ``x = <default>`` becomes ``x = _nni_annotation.variable('x', lambda: <default>)``
  (or ``choice(...)`` when the options are expressions rather than literals);
* ``@nni.function_choice(a(), b(), name=f)`` + ``y = a()`` becomes
  ``y = _nni_annotation.choice('f', {'a()': lambda: a(), 'b()': lambda: b()}, lambda: a())``;
* reports become calls of :mod:`nni.tools.annotation.runtime`.

The original value is kept as a fallback (a lambda, so it is only evaluated when used), which makes the
rewritten module behave like the original when no parameter is given (e.g. run outside an experiment).
The module is regenerated with :func:`ast.unparse`: comments and formatting are not kept, semantics are.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from .specs import Annotation, AnnotationError, parse_annotation

__all__ = ['RUNTIME_ALIAS', 'ModuleResult', 'has_annotations', 'rewrite_module']

#: Name under which rewritten modules import :mod:`nni.tools.annotation.runtime`.
RUNTIME_ALIAS = '_nni_annotation'


@dataclass
class ModuleResult:
    """
    Outcome of rewriting one module.

    Attributes
    ----------
    source
        The rewritten source.
    parameters
        Search space entries found, name -> (spec, line).
    """

    source: str
    parameters: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)


def _annotation_text(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
            and isinstance(statement.value.value, str) and statement.value.value.strip().startswith('@nni.'):
        return statement.value.value
    return None


def has_annotations(source: str) -> bool:
    """Cheap text test used to skip parsing files that cannot contain annotations."""
    return '@nni.' in source


def _runtime(attr: str) -> ast.expr:
    return ast.Attribute(value=ast.Name(id=RUNTIME_ALIAS, ctx=ast.Load()), attr=attr, ctx=ast.Load())


def _thunk(expr: ast.expr) -> ast.expr:
    no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                            defaults=[])
    return ast.Lambda(args=no_args, body=expr)


class _Rewriter:
    def __init__(self, filename: str | None) -> None:
        self.filename = filename
        self.parameters: dict[str, tuple[dict[str, Any], int]] = {}
        self.count = 0

    def error(self, message: str, lineno: int) -> AnnotationError:
        return AnnotationError(message, self.filename, lineno)

    def visit(self, node: ast.AST) -> None:
        # Every list of statements (bodies of modules, functions, loops, branches, handlers...) may hold
        # annotations; expressions cannot, so only statements are descended into.
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and all(isinstance(item, ast.stmt) for item in value):
                setattr(node, name, self.block(value))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, (ast.excepthandler, ast.match_case)):
                        self.visit(item)

    def block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        result: list[ast.stmt] = []
        index = 0
        while index < len(statements):
            statement = statements[index]
            text = _annotation_text(statement)
            if text is None:
                self.visit(statement)
                result.append(statement)
                index += 1
                continue
            annotation = parse_annotation(text, statement.lineno, self.filename)
            self.count += 1
            if annotation.kind in ('variable', 'function_choice'):
                if index + 1 >= len(statements):
                    raise self.error(f'@nni.{annotation.kind} must be followed by the statement it applies to',
                                     statement.lineno)
                target = statements[index + 1]
                if _annotation_text(target) is not None:
                    raise self.error(f'@nni.{annotation.kind} must be followed by a statement, not by another '
                                     'annotation', statement.lineno)
                result.append(self.apply(annotation, target))
                index += 2
            else:
                call = ast.Call(func=_runtime(annotation.kind),
                                args=[annotation.argument] if annotation.argument is not None else [], keywords=[])
                result.append(ast.copy_location(ast.Expr(value=call), statement))
                index += 1
        return result

    def record(self, annotation: Annotation) -> None:
        assert annotation.name is not None and annotation.spec is not None
        previous = self.parameters.get(annotation.name)
        if previous is not None and previous[0] != annotation.spec:
            raise self.error(f'parameter {annotation.name!r} is annotated twice with different values (first at '
                             f'line {previous[1]})', annotation.lineno)
        self.parameters.setdefault(annotation.name, (annotation.spec, annotation.lineno))

    def apply(self, annotation: Annotation, target: ast.stmt) -> ast.stmt:
        if annotation.kind == 'variable':
            if isinstance(target, ast.Assign) and len(target.targets) == 1 and isinstance(target.targets[0], ast.Name):
                assigned = target.targets[0].id
            elif isinstance(target, ast.AnnAssign) and isinstance(target.target, ast.Name) and target.value is not None:
                assigned = target.target.id
            else:
                raise self.error('@nni.variable must be followed by an assignment to one variable, such as '
                                 '"batch_size = 128"', annotation.lineno)
            if annotation.name is None:
                annotation.name = assigned
            elif annotation.name != assigned:
                raise self.error(f'@nni.variable name={annotation.name} does not match the assigned variable '
                                 f'{assigned!r} on the next line', annotation.lineno)
        elif not isinstance(target, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Return)) \
                or getattr(target, 'value', None) is None:
            raise self.error('@nni.function_choice must be followed by a statement with a value (an assignment, '
                             'an expression or a return)', annotation.lineno)
        self.record(annotation)
        assert annotation.name is not None
        original = target.value  # type: ignore[attr-defined]
        key = ast.Constant(value=annotation.name)
        if annotation.options:
            choices = ast.Dict(keys=[ast.Constant(value=source) for source in annotation.options],
                               values=[_thunk(expr) for expr in annotation.options.values()])
            call = ast.Call(func=_runtime('choice'), args=[key, choices, _thunk(original)], keywords=[])
        else:
            call = ast.Call(func=_runtime('variable'), args=[key, _thunk(original)], keywords=[])
        target.value = ast.copy_location(call, original)  # type: ignore[attr-defined]
        return target


def _import_position(module: ast.Module) -> int:
    # after the docstring and "from __future__" imports, which must stay first
    position = 0
    body = module.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str) and _annotation_text(body[0]) is None:
        position = 1
    while position < len(body) and isinstance(body[position], ast.ImportFrom) \
            and body[position].module == '__future__':  # type: ignore[attr-defined]
        position += 1
    return position


def rewrite_module(source: str, filename: str | None = None) -> ModuleResult | None:
    """
    Rewrite the annotations of one module.

    Parameters
    ----------
    source
        Module source.
    filename
        For messages (path relative to the code directory).

    Returns
    -------
    ModuleResult or None
        ``None`` when the module has no annotation (then it should be copied unchanged).

    Raises
    ------
    AnnotationError
        A bad annotation, or a module that does not parse while containing ``@nni.``.
    """
    if not has_annotations(source):
        return None
    try:
        tree = ast.parse(source, filename or '<annotated>')
    except SyntaxError as exc:
        raise AnnotationError(f'cannot parse the module: {exc.msg}', filename, exc.lineno) from None
    rewriter = _Rewriter(filename)
    rewriter.visit(tree)
    if rewriter.count == 0:
        return None
    runtime_import = ast.ImportFrom(module='nni.tools.annotation', names=[ast.alias(name='runtime',
                                                                                   asname=RUNTIME_ALIAS)], level=0)
    tree.body.insert(_import_position(tree), runtime_import)
    ast.fix_missing_locations(tree)
    return ModuleResult(ast.unparse(tree) + '\n', rewriter.parameters)
