"""How `polarity explain` shows an Explanation: coloured tokens, top n-grams, scores; or HTML.

As SHAP's text plots do, a token that raises the explained class's log-odds is red,
one that lowers it blue, deeper the larger its share of the strongest attribution.
"""

import html

from serving.explanations import Explanation

RED, BLUE = (255, 0, 81), (0, 139, 251)  # SHAP's colours for positive and negative values
TOP_NGRAMS = 10


def _tint(value: float, strongest: float) -> tuple:
    """The colour of an attribution: white at 0, SHAP's red or blue at the strongest."""
    colour = RED if value > 0 else BLUE
    alpha = min(abs(value) / strongest, 1.0) if strongest > 0 else 0.0
    return tuple(round(255 + (channel - 255) * alpha) for channel in colour)


def _strongest(values: list) -> float:
    return max((abs(value) for value in values), default=0.0)


def class_to_explain(explanation: Explanation, class_name: str | None) -> str:
    """The class asked for, or the top class.

    Raises:
      ValueError: the model has no such class.
    """
    if class_name is None:
        return explanation.top_class
    if class_name not in explanation.scores:
        raise ValueError(f"the model has no class {class_name!r}; its classes are {explanation.classes}")
    return class_name


def coloured_tokens(explanation: Explanation, class_name: str, colour: bool = True) -> str:
    """The tokens on ANSI 24-bit backgrounds by their attribution to `class_name`."""
    values = explanation.attributions[class_name]
    if not colour:
        return " ".join(explanation.tokens)
    strongest = _strongest(values)
    parts = []
    for token, value in zip(explanation.tokens, values, strict=True):
        red, green, blue = _tint(value, strongest)
        parts.append(f"\x1b[48;2;{red};{green};{blue}m\x1b[38;2;0;0;0m{token}\x1b[0m")
    return " ".join(parts)


def terminal_report(text: str, explanation: Explanation, class_name: str, colour: bool = True) -> str:
    """What `polarity explain` prints for one text."""
    base = explanation.base_values[class_name]
    log_odds = explanation.log_odds[class_name]
    lines = [
        f"text: {text}",
        f"explaining {class_name!r}: score {explanation.scores[class_name]:.4f}, log-odds {log_odds:+.4f} "
        f"= base value {base:+.4f} + sum of attributions {log_odds - base:+.4f}",
        "",
        coloured_tokens(explanation, class_name, colour),
        "",
    ]
    if explanation.ngram_weight is not None:
        lines += [
            f"the n-gram model weighs {explanation.ngram_weight:.2f} in this score, the encoder "
            f"{1 - explanation.ngram_weight:.2f} (the share of the word pieces it read); the tokens are "
            "the encoder's word pieces, then the n-gram model's words where its weight is above 0",
            "",
        ]
    lines.append(f"top n-grams for {class_name!r} (contribution to its log-odds):")
    for gram, value, seen in explanation.top_ngrams(class_name, TOP_NGRAMS):
        lines.append(f"  {value:+.4f}  {gram}" + (f"  (x{seen})" if seen > 1 else ""))
    scores = "  ".join(f"{name} {score:.4f}" for name, score in explanation.scores.items())
    lines += ["", f"scores: {scores}", f"base value ({class_name}): {base:+.4f}"]
    return "\n".join(lines)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>polarity explain</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }}
.tokens span {{ padding: 0.1em 0.2em; margin: 0.1em; border-radius: 0.2em; display: inline-block; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 0.2em 0.8em; text-align: left; }}
td.value {{ text-align: right; font-family: monospace; }}
section {{ border-top: 1px solid #ccc; padding-top: 1em; margin-top: 1em; }}
</style></head><body>
<h1>Why the model said that</h1>
<p>Each token is coloured by its contribution to the explained class's log-odds: red raises
it, blue lowers it (as SHAP's text plots). Base value + the sum of the contributions = the
log-odds.</p>
{sections}
</body></html>
"""


def _section(text: str, explanation: Explanation, class_name: str) -> str:
    values = explanation.attributions[class_name]
    strongest = _strongest(values)
    tokens = "".join(
        f'<span style="background: rgb{_tint(value, strongest)}" title="{value:+.4f}">'
        f"{html.escape(token)}</span>"
        for token, value in zip(explanation.tokens, values, strict=True)
    )
    grams = "".join(
        f'<tr><td class="value">{value:+.4f}</td><td>{html.escape(gram)}</td><td>{seen}</td></tr>'
        for gram, value, seen in explanation.top_ngrams(class_name, TOP_NGRAMS)
    )
    scores = "".join(
        f'<tr><td>{html.escape(name)}</td><td class="value">{score:.4f}</td>'
        f'<td class="value">{explanation.log_odds[name]:+.4f}</td>'
        f'<td class="value">{explanation.base_values[name]:+.4f}</td></tr>'
        for name, score in explanation.scores.items()
    )
    return (
        f"<section><p>{html.escape(text)}</p>"
        f"<p>Explaining <b>{html.escape(class_name)}</b></p>"
        f'<p class="tokens">{tokens}</p>'
        "<table><tr><th>contribution</th><th>n-gram</th><th>times</th></tr>"
        f"{grams}</table>"
        "<table><tr><th>class</th><th>score</th><th>log-odds</th><th>base value</th></tr>"
        f"{scores}</table></section>"
    )


def html_page(items: list) -> str:
    """A self-contained HTML page (no scripts, no network) for (text, explanation, class) items."""
    return _PAGE.format(sections="\n".join(_section(*item) for item in items))


def json_rows(texts: list, explanations: list) -> list:
    """`--json`: each text with its whole explanation."""
    return [
        {"text": text, **explanation.to_json()} for text, explanation in zip(texts, explanations, strict=True)
    ]
