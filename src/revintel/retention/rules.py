"""The segment rule language: a grammar, a hand-written tokenizer and recursive-descent parser that
build an AST, and its translation to an Ibis boolean expression (docs/retention.md, Segments).

Nothing here evaluates text: no ``eval``, no SQL built from the rule. A rule becomes a tree of
:class:`Node` objects; :func:`to_ibis` turns the tree into Ibis column operations, which the
backend compiles with bound literals like any other Ibis expression.

Grammar (EBNF; keywords are case-insensitive, ``feature`` names are case-sensitive)::

    rule        = or_expr , EOF ;
    or_expr     = and_expr , { "or" , and_expr } ;
    and_expr    = not_expr , { "and" , not_expr } ;
    not_expr    = "not" , not_expr | primary ;
    primary     = "(" , or_expr , ")" | condition ;
    condition   = feature , [ test ] ;          (* a bool feature alone means "is true" *)
    test        = compare_op , value
                | [ "not" ] , "in" , "(" , value , { "," , value } , ")"
                | [ "not" ] , "between" , value , "and" , value
                | [ "not" ] , text_op , string
                | "is" , [ "not" ] , ( "null" | "true" | "false" ) ;
    compare_op  = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
    text_op     = "contains" | "starts_with" | "ends_with" ;
    value       = number | string | "true" | "false" ;
    number      = [ "-" | "+" ] , digits , [ "." , digits ] , [ exponent ] , [ suffix ] ;
    digits      = digit , { digit | "_" } ;
    exponent    = ( "e" | "E" ) , [ "-" | "+" ] , digit , { digit } ;
    suffix      = "k" | "K" | "m" | "M" | "b" | "B" ;  (* thousand, million, billion *)
    string      = '"' , { char - '"' | "\\" , char } , '"'
                | "'" , { char - "'" | "\\" , char } , "'" ;
    feature     = letter , { letter | digit | "_" } ;

Precedence, loosest first: ``or``, ``and``, ``not``; a comparison binds tighter than all three,
so ``not a > 1 and b`` is ``(not (a > 1)) and b``.

Meaning: a condition on a missing value (null) is false, so ``not`` selects exactly the
customers the condition does not (``not churn_risk > 0.7`` includes customers with no score);
``is null`` tests for a missing value. Text ``=``, ``!=`` and ``in`` are exact;
``contains``, ``starts_with`` and ``ends_with`` ignore case. A date is compared with a string
``"YYYY-MM-DD"``. Types are checked against the features' kinds (:func:`check`): a text feature
compared with ``>`` or a number with a string is an error naming the position.

A rule also has a structured form, the dashboard builder's AND/OR groups
(:func:`from_builder`, :func:`to_builder`)::

    {"op": "and", "negate": false, "conditions": [
        {"feature": "mrr", "operator": ">", "value": 10000},
        {"op": "or", "conditions": [
            {"feature": "segment", "operator": "in", "value": ["SMB", "Mid-Market"]},
            {"feature": "industry", "operator": "is null"}]}]}

This module is pure: it imports neither the features frame nor any capability.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from revintel.core.errors import InvalidOption

MAX_RULE_LENGTH = 10_000
"""A longer rule is refused before tokenizing."""
MAX_DEPTH = 50
"""Deepest nesting of parentheses and ``not``."""

Kind = Literal["number", "text", "bool", "date"]
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
TextOp = Literal["contains", "starts_with", "ends_with"]
Value = float | str | bool

COMPARE_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
TEXT_OPS: tuple[str, ...] = ("contains", "starts_with", "ends_with")
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "null", "true", "false", "between", *TEXT_OPS}
)
SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9}


class RuleError(InvalidOption):
    """A segment rule that does not parse, names an unknown feature or mixes kinds.

    ``position`` is the 1-based column of the offending character (None when the error is not
    about one place, e.g. an empty builder group)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        self.detail = message
        text = f"position {position}: {message}" if position is not None else message
        super().__init__(f"rule: {text}")


# -- the AST ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    feature: str
    op: CompareOp
    value: Value
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class In:
    feature: str
    values: tuple[Value, ...]
    negated: bool = False
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Between:
    feature: str
    low: Value
    high: Value
    negated: bool = False
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class TextMatch:
    feature: str
    op: TextOp
    value: str
    negated: bool = False
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class IsNull:
    feature: str
    negated: bool = False
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Truth:
    """A bool feature is true (``has_account_manager``, ``x is true``) or false (``is false``)."""

    feature: str
    expected: bool = True
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Condition = Compare | In | Between | TextMatch | IsNull | Truth
Node = Condition | Not | And | Or


# -- tokens --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: Literal["name", "keyword", "number", "string", "op", "lparen", "rparen", "comma", "end"]
    text: str
    value: Any
    position: int  # 1-based column


_NUMBER = re.compile(
    r"[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?(?P<suffix>[kKmMbB])?(?![A-Za-z0-9_])"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "end of rule"
    if tok.kind == "string":
        return f"the text {tok.text}"
    if tok.kind == "number":
        return f"the number {tok.text}"
    return f"'{tok.text}'"


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` (the last one ``end``); :class:`RuleError` at a character that
    starts no token, an unterminated string or a malformed number."""
    if not isinstance(text, str):
        raise RuleError(f"expected the rule as text, got {type(text).__name__}")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"expected at most {MAX_RULE_LENGTH} characters, got {len(text)}")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        pos = i + 1
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            tokens.append(Token("lparen", ch, None, pos))
            i += 1
        elif ch == ")":
            tokens.append(Token("rparen", ch, None, pos))
            i += 1
        elif ch == ",":
            tokens.append(Token("comma", ch, None, pos))
            i += 1
        elif ch in "\"'":
            i, value = _string(text, i)
            tokens.append(Token("string", text[pos - 1 : i], value, pos))
        elif ch in "0123456789" or (ch == "." and i + 1 < n and text[i + 1] in "0123456789"):
            m = _NUMBER.match(text, i)
            if m is None or ch == ".":
                end = i
                while end < n and (text[end].isalnum() or text[end] in "._"):
                    end += 1
                raise RuleError(
                    f"expected a number such as 10000, 10_000, 10k or 2.5M, got {text[i:end]!r}",
                    pos,
                )
            raw = m.group(0)
            suffix = m.group("suffix")
            digits = raw[:-1] if suffix else raw
            number = float(digits.replace("_", "")) * (SUFFIXES[suffix.lower()] if suffix else 1)
            if digits.endswith("_") or any(s in digits for s in ("__", "_.", "._", "_e", "_E")):
                raise RuleError(f"expected digits around '_' in the number {raw!r}", pos)
            if not math.isfinite(number):
                raise RuleError(f"expected a finite number, got {raw!r}", pos)
            tokens.append(Token("number", raw, number, pos))
            i = m.end()
        elif (ch.isascii() and ch.isalpha()) or ch == "_":
            m = _NAME.match(text, i)
            assert m is not None
            word = m.group(0)
            if word.lower() in KEYWORDS:
                tokens.append(Token("keyword", word, word.lower(), pos))
            else:
                tokens.append(Token("name", word, word, pos))
            i = m.end()
        else:
            for op in _OPS:
                if text.startswith(op, i):
                    canon = {"==": "=", "<>": "!="}.get(op, op)
                    tokens.append(Token("op", op, canon, pos))
                    i += len(op)
                    break
            else:
                if ch in "+-":
                    tokens.append(Token("op", ch, ch, pos))
                    i += 1
                else:
                    raise RuleError(
                        f"unexpected character {ch!r}: expected a feature name, a value, "
                        "an operator (= != < <= > >=), a parenthesis or a comma",
                        pos,
                    )
    tokens.append(Token("end", "", None, n + 1))
    return tokens


def _string(text: str, i: int) -> tuple[int, str]:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            out.append(text[j + 1])
            j += 2
            continue
        if ch == quote:
            return j + 1, "".join(out)
        out.append(ch)
        j += 1
    raise RuleError(f"expected a closing {quote} for the text started here", i + 1)


# -- parser --------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _prev(self) -> Token | None:
        return self.tokens[self.i - 1] if self.i > 0 else None

    def _after(self) -> str:
        prev = self._prev()
        return f" after '{prev.text}'" if prev is not None else ""

    def error(self, expected: str) -> RuleError:
        return RuleError(
            f"expected {expected}{self._after()}, got {_describe(self.tok)}", self.tok.position
        )

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.value == word:
            self.i += 1
            return True
        return False

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleError(f"expected at most {MAX_DEPTH} nested levels", self.tok.position)

    def rule(self) -> Node:
        if self.tok.kind == "end":
            raise RuleError(
                "expected a condition such as mrr > 10000, got an empty rule", self.tok.position
            )
        node = self.or_expr()
        if self.tok.kind != "end":
            if self.tok.kind == "rparen":
                raise RuleError("unexpected ')': no '(' is open here", self.tok.position)
            raise self.error("'and', 'or' or the end of the rule")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.keyword("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.keyword("not"):
            self._deeper()
            child = self.not_expr()
            self.depth -= 1
            return Not(child)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "lparen":
            self.i += 1
            self._deeper()
            node = self.or_expr()
            self.depth -= 1
            if self.tok.kind != "rparen":
                raise self.error(f"')' to close the '(' at position {tok.position}")
            self.i += 1
            return node
        if tok.kind == "name":
            return self.condition()
        if tok.kind == "keyword":
            raise RuleError(
                f"expected a feature name or '(', got the keyword '{tok.text}'"
                + (self._after() if self._prev() is not None else ""),
                tok.position,
            )
        raise self.error("a feature name or '('")

    def condition(self) -> Condition:
        name = self.tok
        self.i += 1
        feature, pos = name.value, name.position
        tok = self.tok
        if tok.kind == "op" and tok.value in COMPARE_OPS:
            self.i += 1
            return Compare(feature, tok.value, self.value(), pos)
        negated = False
        if tok.kind == "keyword" and tok.value == "not":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "keyword" and nxt.value in ("in", "between", *TEXT_OPS):
                self.i += 1
                negated = True
                tok = self.tok
            else:
                self.i += 1
                raise self.error("'in', 'between', 'contains', 'starts_with' or 'ends_with'")
        if self.keyword("in"):
            if self.tok.kind != "lparen":
                raise self.error("'(' and a list of values")
            self.i += 1
            values = [self.value()]
            while self.tok.kind == "comma":
                self.i += 1
                values.append(self.value())
            if self.tok.kind != "rparen":
                raise self.error("',' and another value, or ')' to close the list")
            self.i += 1
            return In(feature, tuple(values), negated, pos)
        if self.keyword("between"):
            low = self.value()
            if not self.keyword("and"):
                raise self.error("'and' and the upper bound")
            return Between(feature, low, self.value(), negated, pos)
        if tok.kind == "keyword" and tok.value in TEXT_OPS:
            self.i += 1
            if self.tok.kind != "string":
                raise self.error("a quoted text")
            value = self.tok.value
            self.i += 1
            return TextMatch(feature, tok.value, value, negated, pos)
        if negated:  # pragma: no cover - handled above
            raise self.error("'in', 'between' or a text operator")
        if self.keyword("is"):
            neg = self.keyword("not")
            if self.keyword("null"):
                return IsNull(feature, neg, pos)
            if self.keyword("true"):
                return Truth(feature, not neg, pos)
            if self.keyword("false"):
                return Truth(feature, neg, pos)
            raise self.error("'null', 'true' or 'false'")
        if tok.kind in ("end", "rparen") or (tok.kind == "keyword" and tok.value in ("and", "or")):
            return Truth(feature, True, pos)
        raise self.error(
            "an operator (= != < <= > >= in between contains starts_with ends_with is)"
        )

    def value(self) -> Value:
        tok = self.tok
        if tok.kind == "op" and tok.value in "+-":
            self.i += 1
            if self.tok.kind != "number":
                raise self.error("a number")
            number = float(self.tok.value)
            self.i += 1
            return -number if tok.value == "-" else number
        if tok.kind in ("number", "string"):
            self.i += 1
            return tok.value
        if tok.kind == "keyword" and tok.value in ("true", "false"):
            self.i += 1
            return tok.value == "true"
        raise self.error("a value (a number, a quoted text, true or false)")


def parse(text: str) -> Node:
    """The AST of a rule; :class:`RuleError` with the 1-based position of the first problem."""
    return _Parser(tokenize(text)).rule()


# -- back to text --------------------------------------------------------------------------------
def format_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def to_text(node: Node) -> str:
    """The canonical text of a rule (parsing it gives the same AST back)."""
    return _text(node, 0)


def _text(node: Node, parent: int) -> str:
    if isinstance(node, Or):
        inner = " or ".join(_text(c, 1) for c in node.children)
        return f"({inner})" if parent >= 1 else inner
    if isinstance(node, And):
        inner = " and ".join(_text(c, 2) for c in node.children)
        return f"({inner})" if parent >= 2 else inner
    if isinstance(node, Not):
        return f"not {_text(node.child, 3)}"
    neg = "not " if getattr(node, "negated", False) else ""
    if isinstance(node, Compare):
        return f"{node.feature} {node.op} {format_value(node.value)}"
    if isinstance(node, In):
        return f"{node.feature} {neg}in ({', '.join(format_value(v) for v in node.values)})"
    if isinstance(node, Between):
        low, high = format_value(node.low), format_value(node.high)
        return f"{node.feature} {neg}between {low} and {high}"
    if isinstance(node, TextMatch):
        return f"{node.feature} {neg}{node.op} {format_value(node.value)}"
    if isinstance(node, IsNull):
        return f"{node.feature} is {'not ' if node.negated else ''}null"
    if isinstance(node, Truth):
        return node.feature if node.expected else f"{node.feature} is false"
    raise TypeError(f"not a rule node: {node!r}")


def conditions(node: Node) -> list[Condition]:
    """Every condition of the tree, in reading order."""
    if isinstance(node, (And, Or)):
        return [c for child in node.children for c in conditions(child)]
    if isinstance(node, Not):
        return conditions(node.child)
    return [node]


def features_of(node: Node) -> list[str]:
    """The feature names a rule uses, each once, in reading order."""
    seen: dict[str, None] = {}
    for c in conditions(node):
        seen.setdefault(c.feature, None)
    return list(seen)


# -- checking against the features' kinds -------------------------------------------------------
def _kind_name(kind: str) -> str:
    return {"number": "a number", "text": "text", "bool": "true/false", "date": "a date"}[kind]


def _check_value(feature: str, kind: str, value: Value, position: int) -> None:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, float | int):
            raise RuleError(
                f"{feature} is a number: expected a number, got {format_value(value)}", position
            )
    elif kind == "text":
        if not isinstance(value, str):
            raise RuleError(
                f"{feature} is text: expected a quoted text, got {format_value(value)} "
                f'(write "{format_value(value)}" to compare it as text)',
                position,
            )
    elif kind == "bool":
        if not isinstance(value, bool):
            raise RuleError(
                f"{feature} is true/false: expected true or false, got {format_value(value)}",
                position,
            )
    elif kind == "date" and (not isinstance(value, str) or _as_date(value) is None):
        raise RuleError(
            f'{feature} is a date: expected a quoted date "YYYY-MM-DD", got {format_value(value)}',
            position,
        )


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def unknown_feature(name: str, known: Sequence[str], position: int | None) -> RuleError:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    lowered = [k for k in known if k.lower() == name.lower() and k not in close]
    close = lowered + close
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `revintel segments features`"
    return RuleError(f"unknown feature {name!r}{hint}", position)


def check(node: Node, kinds: Mapping[str, str]) -> None:
    """:class:`RuleError` for the first condition that names an unknown feature or uses an
    operator or value its kind does not allow (``kinds``: feature → number|text|bool|date)."""
    for c in conditions(node):
        kind = kinds.get(c.feature)
        if kind is None:
            raise unknown_feature(c.feature, list(kinds), c.position)
        where, pos = c.feature, c.position
        if isinstance(c, Compare):
            if kind in ("text", "bool") and c.op not in ("=", "!="):
                raise RuleError(
                    f"{where} is {_kind_name(kind)}: '{c.op}' compares numbers and dates; "
                    f"expected = or != (or in, contains, starts_with, ends_with for text)",
                    pos,
                )
            _check_value(where, kind, c.value, pos)
        elif isinstance(c, In):
            if kind == "bool":
                raise RuleError(f"{where} is true/false: expected = true or = false, not 'in'", pos)
            for v in c.values:
                _check_value(where, kind, v, pos)
        elif isinstance(c, Between):
            if kind not in ("number", "date"):
                raise RuleError(
                    f"{where} is {_kind_name(kind)}: 'between' needs a number or a date", pos
                )
            _check_value(where, kind, c.low, pos)
            _check_value(where, kind, c.high, pos)
        elif isinstance(c, TextMatch):
            if kind != "text":
                raise RuleError(
                    f"{where} is {_kind_name(kind)}: '{c.op}' needs a text feature", pos
                )
        elif isinstance(c, Truth) and kind != "bool":
            raise RuleError(
                f"{where} is {_kind_name(kind)}: expected an operator after it "
                "(a feature alone or 'is true/false' needs a true/false feature)",
                pos,
            )


# -- to Ibis -------------------------------------------------------------------------------------
def to_ibis(node: Node, table: Any, columns: Mapping[str, str]) -> Any:
    """The Ibis boolean expression of a rule over ``table`` (checked first against ``columns``:
    feature → kind). A condition on a null is false (never null), so ``not`` is its complement."""
    check(node, columns)
    return _ibis(node, table, columns)


def _lit(kind: str, value: Value) -> Any:
    import ibis

    if kind == "date":
        return ibis.literal(_as_date(str(value)))
    if kind == "number":
        return ibis.literal(float(value))
    return ibis.literal(value)


def _ibis(node: Node, t: Any, kinds: Mapping[str, str]) -> Any:
    import ibis

    if isinstance(node, And):
        out = _ibis(node.children[0], t, kinds)
        for c in node.children[1:]:
            out = out & _ibis(c, t, kinds)
        return out
    if isinstance(node, Or):
        out = _ibis(node.children[0], t, kinds)
        for c in node.children[1:]:
            out = out | _ibis(c, t, kinds)
        return out
    if isinstance(node, Not):
        return ~_ibis(node.child, t, kinds)
    col = t[node.feature]
    kind = kinds[node.feature]
    if isinstance(node, IsNull):
        return col.notnull() if node.negated else col.isnull()
    if isinstance(node, Compare):
        v = _lit(kind, node.value)
        expr = {
            "=": lambda: col == v,
            "!=": lambda: col != v,
            "<": lambda: col < v,
            "<=": lambda: col <= v,
            ">": lambda: col > v,
            ">=": lambda: col >= v,
        }[node.op]()
    elif isinstance(node, In):
        expr = col.isin([_lit(kind, v) for v in node.values])
        if node.negated:
            expr = ~expr
    elif isinstance(node, Between):
        expr = col.between(_lit(kind, node.low), _lit(kind, node.high))
        if node.negated:
            expr = ~expr
    elif isinstance(node, TextMatch):
        low, needle = col.lower(), ibis.literal(node.value.lower())
        expr = {
            "contains": lambda: low.contains(needle),
            "starts_with": lambda: low.startswith(needle),
            "ends_with": lambda: low.endswith(needle),
        }[node.op]()
        if node.negated:
            expr = ~expr
    elif isinstance(node, Truth):
        expr = col if node.expected else ~col
    else:  # pragma: no cover
        raise TypeError(f"not a rule node: {node!r}")
    # a condition on a missing value is false, so that `not` is its exact complement
    return col.notnull() & expr.fill_null(False)


# -- the builder's structured form --------------------------------------------------------------
BUILDER_OPERATORS: tuple[str, ...] = (
    "=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "not between",
    "contains", "not contains", "starts_with", "not starts_with", "ends_with", "not ends_with",
    "is null", "is not null", "is true", "is false",
)  # fmt: skip
"""Operators of a builder condition ``{"feature", "operator", "value"}``."""


def _builder_value(raw: Any, where: str) -> Value:
    if isinstance(raw, bool | str):
        return raw
    if isinstance(raw, int | float) and math.isfinite(raw):
        return float(raw)
    raise RuleError(f"{where}: expected a number, a text or true/false, got {raw!r}")


def from_builder(spec: Any, where: str = "builder") -> Node:
    """The AST of a builder group ``{"op": "and"|"or", "negate": bool, "conditions": [...]}``
    (a condition is ``{"feature", "operator", "value"}``; ``value`` is a list for ``in``, a pair
    for ``between``, absent for ``is ...``). :class:`RuleError` names the path of the problem."""
    if not isinstance(spec, Mapping):
        raise RuleError(f"{where}: expected an object, got {type(spec).__name__}")
    if "feature" in spec:
        return _builder_condition(spec, where)
    op = str(spec.get("op", "and")).lower()
    if op not in ("and", "or"):
        raise RuleError(f"{where}.op: expected 'and' or 'or', got {spec.get('op')!r}")
    items = spec.get("conditions")
    if not isinstance(items, list) or not items:
        raise RuleError(f"{where}.conditions: expected a non-empty list of conditions or groups")
    children = tuple(from_builder(c, f"{where}.conditions[{i}]") for i, c in enumerate(items))
    node: Node = children[0] if len(children) == 1 else (And if op == "and" else Or)(children)
    if spec.get("negate"):
        node = Not(node)
    return node


def _builder_condition(spec: Mapping[str, Any], where: str) -> Node:
    feature = spec.get("feature")
    if not isinstance(feature, str) or not _NAME.fullmatch(feature) or feature in KEYWORDS:
        raise RuleError(f"{where}.feature: expected a feature name, got {feature!r}")
    operator = str(spec.get("operator", "")).strip().lower()
    if operator not in BUILDER_OPERATORS:
        raise RuleError(
            f"{where}.operator: expected one of {', '.join(BUILDER_OPERATORS)}, got {operator!r}"
        )
    value = spec.get("value")
    negated = operator.startswith("not ")
    base = operator.removeprefix("not ")
    node: Node
    if operator in COMPARE_OPS:
        node = Compare(feature, operator, _builder_value(value, f"{where}.value"))  # type: ignore[arg-type]
    elif base == "in":
        if not isinstance(value, list) or not value:
            raise RuleError(f"{where}.value: expected a non-empty list for 'in'")
        vals = tuple(_builder_value(v, f"{where}.value[{i}]") for i, v in enumerate(value))
        node = In(feature, vals, negated)
    elif base == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise RuleError(f"{where}.value: expected [low, high] for 'between'")
        node = Between(
            feature,
            _builder_value(value[0], f"{where}.value[0]"),
            _builder_value(value[1], f"{where}.value[1]"),
            negated,
        )
    elif base in TEXT_OPS:
        if not isinstance(value, str):
            raise RuleError(f"{where}.value: expected a text for '{base}', got {value!r}")
        node = TextMatch(feature, base, value, negated)  # type: ignore[arg-type]
    elif operator in ("is null", "is not null"):
        node = IsNull(feature, operator == "is not null")
    else:
        node = Truth(feature, operator == "is true")
    return node


def _condition_spec(c: Condition) -> dict[str, Any]:
    neg = "not " if getattr(c, "negated", False) else ""
    if isinstance(c, Compare):
        return {"feature": c.feature, "operator": c.op, "value": c.value}
    if isinstance(c, In):
        return {"feature": c.feature, "operator": f"{neg}in", "value": list(c.values)}
    if isinstance(c, Between):
        return {"feature": c.feature, "operator": f"{neg}between", "value": [c.low, c.high]}
    if isinstance(c, TextMatch):
        return {"feature": c.feature, "operator": f"{neg}{c.op}", "value": c.value}
    if isinstance(c, IsNull):
        return {"feature": c.feature, "operator": "is not null" if c.negated else "is null"}
    return {"feature": c.feature, "operator": "is true" if c.expected else "is false"}


def to_builder(node: Node) -> dict[str, Any]:
    """The builder's group form of a rule (the top is always a group)."""
    spec = _spec(node)
    if "feature" in spec:
        return {"op": "and", "negate": False, "conditions": [spec]}
    return spec


def _spec(node: Node) -> dict[str, Any]:
    if isinstance(node, Not):
        inner = _spec(node.child)
        if "feature" in inner:
            return {"op": "and", "negate": True, "conditions": [inner]}
        if inner.get("negate"):  # not not x
            return {"op": "and", "negate": True, "conditions": [inner]}
        return {**inner, "negate": True}
    if isinstance(node, And | Or):
        return {
            "op": "and" if isinstance(node, And) else "or",
            "negate": False,
            "conditions": [_spec(c) for c in node.children],
        }
    return _condition_spec(node)
